import { OrderCancelledSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { on, type EventHandler } from "@shopmesh/platform";
import type { Payments } from "../payments.js";

/** OrderCancelled -> refund the captured payment, or cancel the intent nobody confirmed. */
export function orderCancelledHandler(payments: Payments): EventHandler {
  return on(OrderCancelledSchema, (event, _meta, connection) => payments.onOrderCancelled(connection, event.orderId, event.reason || "cancelled"));
}
