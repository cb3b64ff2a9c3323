/** Why a payment arrived too late for its order to take it. */
export type LatePayment = "payment_timeout" | "reservation_expired";

/**
 * Decides whether a payment that succeeded now still counts for a pending order. It does not
 * once the payment window (from the order's creation) has passed, or once the stock
 * reservation made by PlaceOrder has expired: the sweeper may simply not have cancelled the
 * order yet. Such an order is cancelled instead of paid, and payment refunds the money.
 */
export function latePayment(order: { createdAt: Date; reservationExpiresAt: Date | null }, now: Date, paymentWindowSeconds: number): LatePayment | undefined {
  if (order.reservationExpiresAt && now.getTime() >= order.reservationExpiresAt.getTime()) return "reservation_expired";
  if (now.getTime() >= order.createdAt.getTime() + paymentWindowSeconds * 1000) return "payment_timeout";
  return undefined;
}
