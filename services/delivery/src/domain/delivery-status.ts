import { FailedPreconditionError } from "@shopmesh/platform";

export type DeliveryStatusName = "UNASSIGNED" | "ASSIGNED" | "PICKED_UP" | "IN_TRANSIT" | "DELIVERED" | "FAILED";

/** Statuses a partner can report (UpdateDeliveryStatus). */
export type ReportedStatus = Extract<DeliveryStatusName, "PICKED_UP" | "IN_TRANSIT" | "DELIVERED" | "FAILED">;

/** Where each status may go next. DELIVERED and FAILED are final. */
const NEXT: Record<DeliveryStatusName, readonly DeliveryStatusName[]> = {
  UNASSIGNED: [],
  ASSIGNED: ["PICKED_UP"],
  PICKED_UP: ["IN_TRANSIT", "FAILED"],
  IN_TRANSIT: ["DELIVERED", "FAILED"],
  DELIVERED: [],
  FAILED: [],
};

/** A delivery still in a partner's hands: it cannot lose its partner. */
export const IN_PROGRESS_STATUSES: readonly DeliveryStatusName[] = ["ASSIGNED", "PICKED_UP", "IN_TRANSIT"];

/**
 * Validates a reported status against the current one. Reporting the current status again
 * is "unchanged" (a retried call succeeds without a second event); any other move that is
 * not the next step forward throws FAILED_PRECONDITION.
 */
export function statusTransition(current: DeliveryStatusName, next: ReportedStatus): "changed" | "unchanged" {
  if (current === next) return "unchanged";
  if (current === "UNASSIGNED") throw new FailedPreconditionError("the delivery has no partner yet");
  if (!NEXT[current].includes(next)) throw new FailedPreconditionError(`a delivery cannot go from ${current} to ${next}`);
  return "changed";
}
