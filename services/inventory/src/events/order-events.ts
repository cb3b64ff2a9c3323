import { OrderCancelledSchema, OrderStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { FailedPreconditionError, NotFoundError, type Logger } from "@shopmesh/platform";
import { on, PoisonEventError, type EventHandler } from "@shopmesh/platform/data";
import type { Inventory } from "../inventory.js";

/**
 * The saga steps inventory owns, driven by the order topic (the stock owner reacts to the
 * order's events; order never calls back into inventory after PlaceOrder):
 * - OrderStatusChanged to PAID commits the reservation; to PAYMENT_FAILED releases it.
 * - OrderCancelled releases an uncommitted reservation, or returns committed stock.
 * Each effect commits together with the processed-event row, so a redelivered event has no
 * second effect; the relay is nudged once the consumer's transaction committed.
 */
export function orderEventHandlers(inventory: Inventory, logger: Logger, onOutboxWrite: () => void): EventHandler[] {
  return [
    on(
      OrderStatusChangedSchema,
      async (event, _meta, connection) => {
        switch (event.newStatus) {
          case OrderStatus.PAID:
            try {
              await inventory.commit(event.orderId, connection);
            } catch (err) {
              // A paid order without held stock is for an operator (dead-letter topic), not for retries.
              if (err instanceof NotFoundError || err instanceof FailedPreconditionError) {
                throw new PoisonEventError(`order ${event.orderId} is PAID but its reservation cannot be committed: ${err.message}`);
              }
              throw err;
            }
            return;
          case OrderStatus.PAYMENT_FAILED:
            await releaseKnown(event.orderId, () => inventory.release(event.orderId, "payment_failed", connection));
            return;
          default:
            return; // CANCELLED is handled through OrderCancelled, which says why.
        }
      },
      () => onOutboxWrite(),
    ),
    on(
      OrderCancelledSchema,
      async (event, _meta, connection) => {
        const reason = `order_cancelled: ${event.reason || "cancelled"}`.slice(0, 200);
        await releaseKnown(event.orderId, () => inventory.onOrderCancelled(event.orderId, reason, connection));
      },
      () => onOutboxWrite(),
    ),
  ];

  /** An order that never reserved anything has nothing to give back. */
  async function releaseKnown(orderId: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      logger.warn({ order_id: orderId }, "order event for an order without a reservation ignored");
    }
  }
}
