import type { DeliveryStatusName } from "./delivery-status.js";

/** The delivery of one order, as stored. */
export interface DeliveryRecord {
  id: string;
  orderId: string;
  /** The customer who placed the order. */
  userId: string;
  postalCode: string;
  itemCount: number;
  status: DeliveryStatusName;
  partnerId: string | null;
  /** Set when the order was paid; only paid deliveries are assigned. */
  paidAt: Date | null;
  /** Set when the order was cancelled or its payment failed; such a delivery is never assigned. */
  closedAt: Date | null;
  assignedAt: Date | null;
  /** Why the last assignment attempt found no partner. */
  unassignedReason: string | null;
  lastNote: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Total units of an order's lines. */
export const itemCount = (lines: ReadonlyArray<{ quantity: number }>) => lines.reduce((sum, line) => sum + line.quantity, 0);

/** Start of the UTC day containing `now`: daily capacity is counted per UTC day. */
export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** A placeholder made when PAID arrived before OrderPlaced: it has no destination yet. */
export const awaitsOrderDetails = (delivery: Pick<DeliveryRecord, "postalCode">) => delivery.postalCode === "";
