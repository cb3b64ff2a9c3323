import { OrderCancelledSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { on, type EventHandler } from "@shopmesh/platform/data";
import type { Payments } from "../payments.js";

/**
 * OrderCancelled -> refund the captured payment (also one captured later), or cancel the
 * intent nobody confirmed. The provider calls follow the commit (`onProviderWork`).
 */
export function orderCancelledHandler(payments: Payments, onProviderWork: () => void): EventHandler {
  return on(
    OrderCancelledSchema,
    async (event, _meta, connection) => {
      await payments.onOrderCancelled(connection, event.orderId, event.reason || "cancelled");
    },
    () => onProviderWork(),
  );
}
