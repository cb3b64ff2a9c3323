import { OrderPlacedSchema, OrderStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { on, PoisonEventError, type EventHandler } from "@shopmesh/platform/data";
import type { Deliveries } from "../deliveries.js";
import { itemCount } from "../domain/delivery.js";

/**
 * What delivery consumes from the order topic: OrderPlaced records a pending delivery, and
 * OrderStatusChanged to PAID makes it assignable (to CANCELLED or PAYMENT_FAILED, never).
 * Each effect commits with the processed-event row, so a redelivery changes nothing.
 */
export function orderEventHandlers(deliveries: Deliveries, onOutboxWrite: () => void): EventHandler[] {
  return [
    on(OrderPlacedSchema, async (event, _meta, connection) => {
      const postalCode = event.shippingAddress?.postalCode ?? "";
      // An order without an address or customer can never be delivered: retrying will not help.
      if (postalCode === "" || event.userId === "") throw new PoisonEventError(`OrderPlaced ${event.orderId} has no postal code or user`);
      await deliveries.recordPlaced(connection, { orderId: event.orderId, userId: event.userId, postalCode, itemCount: itemCount(event.lines) });
    }),
    on(
      OrderStatusChangedSchema,
      async (event, _meta, connection) => {
        switch (event.newStatus) {
          case OrderStatus.PAID:
            await deliveries.markPaid(connection, event.orderId, event.userId);
            break;
          case OrderStatus.CANCELLED:
          case OrderStatus.PAYMENT_FAILED:
            await deliveries.closeForOrder(connection, event.orderId, OrderStatus[event.newStatus]);
            break;
          default:
            break;
        }
      },
      // Waking the relay is cheap; it finds nothing to send when no event was written.
      () => onOutboxWrite(),
    ),
  ];
}
