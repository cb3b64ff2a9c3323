/** Where a payment is in its life. Stored by name; mirrors `shopmesh.payment.v1.PaymentStatus`. */
export type PaymentState = "REQUIRES_CONFIRMATION" | "PROCESSING" | "SUCCEEDED" | "FAILED" | "CANCELLED" | "REFUNDED" | "PARTIALLY_REFUNDED";

/**
 * Allowed moves. Webhooks arrive late, twice and out of order, so anything not listed is a
 * step backwards (or sideways out of a final state) and is ignored rather than applied.
 * FAILED, CANCELLED and REFUNDED are final.
 */
const NEXT: Record<PaymentState, readonly PaymentState[]> = {
  REQUIRES_CONFIRMATION: ["PROCESSING", "SUCCEEDED", "FAILED", "CANCELLED"],
  PROCESSING: ["SUCCEEDED", "FAILED", "CANCELLED"],
  SUCCEEDED: ["PARTIALLY_REFUNDED", "REFUNDED"],
  PARTIALLY_REFUNDED: ["PARTIALLY_REFUNDED", "REFUNDED"],
  FAILED: [],
  CANCELLED: [],
  REFUNDED: [],
};

export function canTransition(from: PaymentState, to: PaymentState): boolean {
  return NEXT[from].includes(to);
}

export function isFinal(state: PaymentState): boolean {
  return NEXT[state].length === 0;
}

/** Money was captured and not all of it given back. */
export function isRefundable(state: PaymentState): boolean {
  return state === "SUCCEEDED" || state === "PARTIALLY_REFUNDED";
}

/** The provider's webhook events this service understands. */
export type ProviderEventType = "payment_intent.processing" | "payment_intent.succeeded" | "payment_intent.payment_failed" | "charge.refunded";

export interface PaymentSnapshot {
  status: PaymentState;
  amountMinor: bigint;
  currency: string;
  refundedMinor: bigint;
}

export interface ProviderEventFacts {
  type: string;
  amountMinor: bigint;
  currency: string;
  failureReason: string | null;
}

/** What one provider event does to a payment. */
export type ProviderEventDecision =
  | { kind: "ignore"; reason: string }
  | { kind: "processing" }
  | { kind: "succeeded" }
  | { kind: "failed"; reason: string }
  | { kind: "refunded"; amountMinor: bigint; totalRefundedMinor: bigint; status: "REFUNDED" | "PARTIALLY_REFUNDED" };

/**
 * Decides the effect of a provider event on a payment. Pure: the caller applies the decision
 * (status, ledger, outbox) in one transaction, or acknowledges an ignored event unchanged.
 */
export function decideProviderEvent(payment: PaymentSnapshot, event: ProviderEventFacts): ProviderEventDecision {
  const moveTo = (to: PaymentState): string | undefined =>
    canTransition(payment.status, to) ? undefined : `payment is ${payment.status}; ${event.type} would move it to ${to}`;
  if (event.currency !== payment.currency) return { kind: "ignore", reason: `currency ${event.currency} does not match ${payment.currency}` };
  switch (event.type) {
    case "payment_intent.processing": {
      const refused = moveTo("PROCESSING");
      return refused ? { kind: "ignore", reason: refused } : { kind: "processing" };
    }
    case "payment_intent.succeeded": {
      if (event.amountMinor !== payment.amountMinor)
        return { kind: "ignore", reason: `captured ${event.amountMinor} but the payment is for ${payment.amountMinor}` };
      const refused = moveTo("SUCCEEDED");
      return refused ? { kind: "ignore", reason: refused } : { kind: "succeeded" };
    }
    case "payment_intent.payment_failed": {
      const refused = moveTo("FAILED");
      return refused ? { kind: "ignore", reason: refused } : { kind: "failed", reason: event.failureReason || "payment_failed" };
    }
    case "charge.refunded": {
      const total = payment.refundedMinor + event.amountMinor;
      if (event.amountMinor <= 0n || total > payment.amountMinor) {
        return { kind: "ignore", reason: `refund of ${event.amountMinor} exceeds the ${payment.amountMinor - payment.refundedMinor} left` };
      }
      const status = total === payment.amountMinor ? "REFUNDED" : "PARTIALLY_REFUNDED";
      const refused = moveTo(status);
      return refused ? { kind: "ignore", reason: refused } : { kind: "refunded", amountMinor: event.amountMinor, totalRefundedMinor: total, status };
    }
    default:
      return { kind: "ignore", reason: `event type ${event.type} is not used` };
  }
}
