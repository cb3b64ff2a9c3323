import { latePayment } from "./payment-deadline.js";

const placedAt = new Date("2025-01-01T12:00:00Z");
const after = (seconds: number) => new Date(placedAt.getTime() + seconds * 1000);
const buildOrder = (overrides: Partial<{ createdAt: Date; reservationExpiresAt: Date | null }> = {}) => ({
  createdAt: placedAt,
  reservationExpiresAt: after(1200),
  ...overrides,
});

describe("a payment's deadline", () => {
  test("when the payment arrives within the window and before the reservation expires, then it counts", () => {
    expect(latePayment(buildOrder(), after(899), 900)).toBeUndefined();
  });

  test("when the payment window has passed, then it is late with payment_timeout", () => {
    expect(latePayment(buildOrder(), after(900), 900)).toBe("payment_timeout");
  });

  test("when the reservation expired before the window ended, then it is late with reservation_expired", () => {
    expect(latePayment(buildOrder({ reservationExpiresAt: after(60) }), after(61), 900)).toBe("reservation_expired");
  });

  test("when inventory named no expiry, then only the window counts", () => {
    expect(latePayment(buildOrder({ reservationExpiresAt: null }), after(5000), 9000)).toBeUndefined();
  });
});
