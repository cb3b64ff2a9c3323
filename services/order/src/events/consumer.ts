import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryAssignedSchema, DeliveryStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { PaymentFailedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { on, type EventHandler, type EventMeta, type Logger, type PoolConnection } from "@shopmesh/platform";
import type { Downstreams } from "../clients/downstreams.js";
import { canTransition } from "../domain/status.js";
import type { OrderStore } from "../store/orders.js";
import type { OrderUpdates } from "./order-updates.js";
import { transitionOrder } from "./transitions.js";

export interface OrderEventDeps {
  orders: OrderStore;
  downstreams: Pick<Downstreams, "inventory">;
  updates: OrderUpdates;
  logger: Logger;
  onOutboxWrite: () => void;
}

/**
 * How order reacts to payment and delivery events. Each handler runs in the consumer's
 * transaction with the order row locked; calls to inventory are idempotent by order id, so
 * a retried event repeats them harmlessly. Events that no longer fit the order's state
 * (a late success for a cancelled order) change nothing and are logged.
 */
export function orderEventHandlers(deps: OrderEventDeps): EventHandler[] {
  const { orders, logger } = deps;
  const notify = (meta: EventMeta, orderId: string | undefined) => {
    if (!orderId) return;
    deps.onOutboxWrite();
    void deps.updates.publish({ orderId, eventType: meta.type, eventId: meta.id });
  };

  async function lock(connection: PoolConnection, orderId: string, meta: EventMeta) {
    const order = await orders.getForUpdate(connection, orderId);
    if (!order) logger.warn({ order_id: orderId, event_type: meta.type }, "event for an unknown order ignored");
    return order;
  }

  async function moveTo(connection: PoolConnection, orderId: string, to: OrderStatus, meta: EventMeta, reason = ""): Promise<void> {
    const order = await lock(connection, orderId, meta);
    if (!order || order.status === to) return;
    if (!canTransition(order.status, to)) {
      logger.warn(
        { order_id: orderId, from: OrderStatus[order.status], to: OrderStatus[to], event_type: meta.type },
        "event does not fit the order's state; ignored",
      );
      return;
    }
    await transitionOrder(connection, orders, order, to, reason);
  }

  return [
    on(
      PaymentSucceededSchema,
      async (event, meta, connection) => {
        const order = await lock(connection, event.orderId, meta);
        if (!order || order.status !== OrderStatus.PENDING) {
          if (order) logger.warn({ order_id: order.id, status: OrderStatus[order.status] }, "payment succeeded for an order that is not pending");
          return;
        }
        await deps.downstreams.inventory.commitReservation({ orderId: order.id });
        await transitionOrder(connection, orders, order, OrderStatus.PAID, "payment succeeded");
      },
      (event, meta) => notify(meta, event.orderId),
    ),
    on(
      PaymentFailedSchema,
      async (event, meta, connection) => {
        const order = await lock(connection, event.orderId, meta);
        if (!order || order.status !== OrderStatus.PENDING) return;
        await deps.downstreams.inventory.releaseReservation({ orderId: order.id, reason: "payment failed" });
        await transitionOrder(connection, orders, order, OrderStatus.PAYMENT_FAILED, event.reason || "payment failed");
      },
      (event, meta) => notify(meta, event.orderId),
    ),
    on(
      DeliveryAssignedSchema,
      async (event, meta, connection) => {
        const order = await lock(connection, event.orderId, meta);
        if (!order) return;
        await orders.update(connection, order.id, { deliveryId: event.deliveryId });
      },
      (event, meta) => notify(meta, event.orderId),
    ),
    on(
      DeliveryStatusChangedSchema,
      async (event, meta, connection) => {
        if (event.newStatus === DeliveryStatus.PICKED_UP || event.newStatus === DeliveryStatus.IN_TRANSIT) {
          await moveTo(connection, event.orderId, OrderStatus.SHIPPED, meta, `delivery ${DeliveryStatus[event.newStatus].toLowerCase()}`);
        } else if (event.newStatus === DeliveryStatus.DELIVERED) {
          // A courier may report delivery without a pick-up scan; ship first so the history stays valid.
          await moveTo(connection, event.orderId, OrderStatus.SHIPPED, meta, "delivery delivered");
          await moveTo(connection, event.orderId, OrderStatus.DELIVERED, meta, "delivery delivered");
        }
      },
      (event, meta) => notify(meta, event.orderId),
    ),
  ];
}
