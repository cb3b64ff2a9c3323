import { FailedPreconditionError, InvalidArgumentError } from "@shopmesh/platform";

export type ReservationState = "ACTIVE" | "COMMITTED" | "RELEASED" | "EXPIRED" | "RETURNED";

/** One product and quantity held for an order. */
export interface ReservationLine {
  productId: string;
  quantity: number;
}

/** The stock held for one order; lines are sorted by product id. */
export interface ReservationRecord {
  orderId: string;
  state: ReservationState;
  lines: ReservationLine[];
  expiresAt: Date;
  releaseReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Ids compare case-insensitively; we store them lower-cased. */
export function normalizeId(id: string): string {
  return id.trim().toLowerCase();
}

/**
 * Canonical lines: lower-cased ids sorted by product id. The sort is also the order rows are
 * locked in, so two reservations touching the same products cannot deadlock each other.
 * A product listed twice is rejected (the contract allows each product once).
 */
export function normalizeLines(lines: ReadonlyArray<ReservationLine>): ReservationLine[] {
  const normalized = lines.map((line) => ({ productId: normalizeId(line.productId), quantity: line.quantity }));
  normalized.sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  for (let i = 1; i < normalized.length; i++) {
    if (normalized[i]!.productId === normalized[i - 1]!.productId) {
      throw new InvalidArgumentError(`items: product ${normalized[i]!.productId} is listed more than once`);
    }
  }
  return normalized;
}

/** Whether two normalized line lists ask for the same products and quantities. */
export function sameLines(a: ReadonlyArray<ReservationLine>, b: ReadonlyArray<ReservationLine>): boolean {
  return a.length === b.length && a.every((line, i) => line.productId === b[i]!.productId && line.quantity === b[i]!.quantity);
}

/** "apply" changes stock; "unchanged" means the call was already applied (idempotent repeat). */
export type Transition = "apply" | "unchanged";

/** Release: active -> released; released/expired/returned again is a no-op; committed stock comes back only by a return. */
export function releaseTransition(reservation: Pick<ReservationRecord, "orderId" | "state">): Transition {
  switch (reservation.state) {
    case "ACTIVE":
      return "apply";
    case "RELEASED":
    case "EXPIRED":
    case "RETURNED":
      return "unchanged";
    case "COMMITTED":
      throw new FailedPreconditionError(`reservation of order ${reservation.orderId} is already committed`);
  }
}

/** Commit: active -> committed; committed again is a no-op; released or expired stock is gone. */
export function commitTransition(reservation: Pick<ReservationRecord, "orderId" | "state">): Transition {
  switch (reservation.state) {
    case "ACTIVE":
      return "apply";
    case "COMMITTED":
      return "unchanged";
    case "RELEASED":
    case "EXPIRED":
    case "RETURNED":
      throw new FailedPreconditionError(`reservation of order ${reservation.orderId} is ${reservation.state.toLowerCase()}`);
  }
}

/**
 * What cancelling the order does to its reservation: held stock is released, committed stock
 * is returned to on_hand, and a reservation already released, expired or returned is left
 * alone (a redelivered or late cancellation).
 */
export function cancellationTransition(reservation: Pick<ReservationRecord, "state">): "release" | "return" | "unchanged" {
  switch (reservation.state) {
    case "ACTIVE":
      return "release";
    case "COMMITTED":
      return "return";
    case "RELEASED":
    case "EXPIRED":
    case "RETURNED":
      return "unchanged";
  }
}
