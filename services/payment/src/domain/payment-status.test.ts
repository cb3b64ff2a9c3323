import { canTransition, decideProviderEvent, isFinal, type PaymentSnapshot, type ProviderEventFacts } from "./payment-status.js";

const buildPayment = (overrides: Partial<PaymentSnapshot> = {}): PaymentSnapshot => ({
  status: "REQUIRES_CONFIRMATION",
  amountMinor: 5000n,
  currency: "EUR",
  refundedMinor: 0n,
  ...overrides,
});
const buildEvent = (overrides: Partial<ProviderEventFacts> = {}): ProviderEventFacts => ({
  type: "payment_intent.succeeded",
  amountMinor: 5000n,
  currency: "EUR",
  failureReason: null,
  ...overrides,
});

describe("payment state machine", () => {
  test("a new payment may succeed, fail, start processing or be cancelled", () => {
    for (const to of ["PROCESSING", "SUCCEEDED", "FAILED", "CANCELLED"] as const) expect(canTransition("REQUIRES_CONFIRMATION", to)).toBe(true);
  });

  test("a succeeded payment can only be refunded, never go back or fail", () => {
    expect(canTransition("SUCCEEDED", "REFUNDED")).toBe(true);
    expect(canTransition("SUCCEEDED", "PARTIALLY_REFUNDED")).toBe(true);
    expect(canTransition("SUCCEEDED", "PROCESSING")).toBe(false);
    expect(canTransition("SUCCEEDED", "FAILED")).toBe(false);
    expect(canTransition("SUCCEEDED", "REQUIRES_CONFIRMATION")).toBe(false);
  });

  test("FAILED, CANCELLED and REFUNDED are final", () => {
    expect(["FAILED", "CANCELLED", "REFUNDED"].every((state) => isFinal(state as "FAILED"))).toBe(true);
    expect(canTransition("FAILED", "SUCCEEDED")).toBe(false);
    expect(canTransition("REFUNDED", "PARTIALLY_REFUNDED")).toBe(false);
    expect(isFinal("SUCCEEDED")).toBe(false);
  });
});

describe("provider events", () => {
  test("succeeded on a payment awaiting confirmation or processing marks it succeeded", () => {
    expect(decideProviderEvent(buildPayment(), buildEvent())).toEqual({ kind: "succeeded" });
    expect(decideProviderEvent(buildPayment({ status: "PROCESSING" }), buildEvent())).toEqual({ kind: "succeeded" });
  });

  test("when a stale processing event arrives after succeeded, then it is ignored", () => {
    expect(decideProviderEvent(buildPayment({ status: "SUCCEEDED" }), buildEvent({ type: "payment_intent.processing" })).kind).toBe("ignore");
  });

  test("when succeeded arrives again for a succeeded payment, then it is ignored", () => {
    expect(decideProviderEvent(buildPayment({ status: "SUCCEEDED" }), buildEvent()).kind).toBe("ignore");
  });

  test("a failure after success is ignored; a failure before it carries the provider's reason", () => {
    expect(decideProviderEvent(buildPayment({ status: "SUCCEEDED" }), buildEvent({ type: "payment_intent.payment_failed" })).kind).toBe("ignore");
    expect(decideProviderEvent(buildPayment(), buildEvent({ type: "payment_intent.payment_failed", failureReason: "card_declined" }))).toEqual({
      kind: "failed",
      reason: "card_declined",
    });
  });

  test("a success for another amount or currency is not applied", () => {
    expect(decideProviderEvent(buildPayment(), buildEvent({ amountMinor: 4999n })).kind).toBe("ignore");
    expect(decideProviderEvent(buildPayment(), buildEvent({ currency: "USD" })).kind).toBe("ignore");
  });

  test("refunds accumulate: part first, then the rest makes it REFUNDED; more than captured is ignored", () => {
    const partial = decideProviderEvent(buildPayment({ status: "SUCCEEDED" }), buildEvent({ type: "charge.refunded", amountMinor: 2000n }));
    expect(partial).toEqual({ kind: "refunded", amountMinor: 2000n, totalRefundedMinor: 2000n, status: "PARTIALLY_REFUNDED" });
    const rest = decideProviderEvent(
      buildPayment({ status: "PARTIALLY_REFUNDED", refundedMinor: 2000n }),
      buildEvent({ type: "charge.refunded", amountMinor: 3000n }),
    );
    expect(rest).toEqual({ kind: "refunded", amountMinor: 3000n, totalRefundedMinor: 5000n, status: "REFUNDED" });
    expect(
      decideProviderEvent(buildPayment({ status: "PARTIALLY_REFUNDED", refundedMinor: 2000n }), buildEvent({ type: "charge.refunded", amountMinor: 3001n }))
        .kind,
    ).toBe("ignore");
  });

  test("a refund of a payment that never succeeded is ignored", () => {
    expect(decideProviderEvent(buildPayment({ status: "FAILED" }), buildEvent({ type: "charge.refunded", amountMinor: 100n })).kind).toBe("ignore");
  });

  test("unknown event types are ignored", () => {
    expect(decideProviderEvent(buildPayment(), buildEvent({ type: "customer.created" })).kind).toBe("ignore");
  });
});
