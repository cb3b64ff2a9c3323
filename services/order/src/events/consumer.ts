import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryAssignedSchema, DeliveryStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { PaymentFailedSchema, PaymentRefundedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentStatus } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { type Logger } from "@shopmesh/platform";
import { on, type EventHandler, type EventMeta, type PoolConnection } from "@shopmesh/platform/data";
import { latePayment } from "../domain/payment-deadline.js";
import { canTransition } from "../domain/status.js";
import type { OrderStore } from "../store/orders.js";
import type { OrderUpdates } from "./order-updates.js";
import { transitionOrder } from "./transitions.js";

export interface OrderEventDeps {
  orders: OrderStore;
  updates: OrderUpdates;
  logger: Logger;
  /** ORDER_PAYMENT_WINDOW_SECONDS: a success after it cancels the order instead of paying it. */
  paymentWindowSeconds: number;
  onOutboxWrite: () => void;
  now?: () => Date;
}

/**
 * How order reacts to payment and delivery events. Each handler runs in the consumer's
 * transaction with the order row locked and changes only order's own rows and outbox: the
 * stock and the money follow from the events it writes (inventory and payment consume them),
 * so no network call happens while the lock is held. A payment outcome is always recorded on
 * the order; an event that no longer fits the order's state changes its status no further.
 */
export function orderEventHandlers(deps: OrderEventDeps): EventHandler[] {
  const { orders, logger } = deps;
  const clock = deps.now ?? (() => new Date());
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
        if (!order) return;
        await orders.update(connection, order.id, { paymentStatus: PaymentStatus.SUCCEEDED });
        if (order.status !== OrderStatus.PENDING) {
          // payment refunds a success for a cancelled order itself (it consumed OrderCancelled).
          logger.warn({ order_id: order.id, status: OrderStatus[order.status] }, "payment succeeded for an order that is not pending");
          return;
        }
        const late = latePayment(order, clock(), deps.paymentWindowSeconds);
        if (late) {
          logger.warn({ order_id: order.id, reason: late }, "payment succeeded too late; order cancelled, payment refunds it");
          await transitionOrder(connection, orders, order, OrderStatus.CANCELLED, late);
          return;
        }
        await transitionOrder(connection, orders, order, OrderStatus.PAID, "payment succeeded");
      },
      (event, meta) => notify(meta, event.orderId),
    ),
    on(
      PaymentFailedSchema,
      async (event, meta, connection) => {
        const order = await lock(connection, event.orderId, meta);
        if (!order) return;
        await orders.update(connection, order.id, { paymentStatus: PaymentStatus.FAILED });
        if (order.status !== OrderStatus.PENDING) return;
        await transitionOrder(connection, orders, order, OrderStatus.PAYMENT_FAILED, event.reason || "payment failed");
      },
      (event, meta) => notify(meta, event.orderId),
    ),
    on(
      PaymentRefundedSchema,
      async (event, meta, connection) => {
        const order = await lock(connection, event.orderId, meta);
        if (!order) return;
        const total = event.totalRefunded?.amountMinor ?? 0n;
        await orders.update(connection, order.id, {
          refundedMinor: total,
          paymentStatus: total >= order.totalMinor ? PaymentStatus.REFUNDED : PaymentStatus.PARTIALLY_REFUNDED,
        });
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
