import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { OrderCancelledSchema, OrderStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { FailedPreconditionError, TOPICS } from "@shopmesh/platform";
import { appendToOutbox, type PoolConnection } from "@shopmesh/platform/data";
import { canTransition } from "../domain/status.js";
import type { OrderRecord, OrderStore } from "../store/orders.js";

/**
 * Moves a row-locked order to `to` inside the caller's transaction and records the events
 * (OrderStatusChanged, plus OrderCancelled for cancellations) in the outbox. An invalid
 * transition is refused. Returns the id of the OrderStatusChanged event.
 */
export async function transitionOrder(connection: PoolConnection, orders: OrderStore, order: OrderRecord, to: OrderStatus, reason = ""): Promise<string> {
  if (!canTransition(order.status, to)) {
    throw new FailedPreconditionError(`order ${order.id} is ${OrderStatus[order.status]} and cannot become ${OrderStatus[to]}`);
  }
  await orders.update(connection, order.id, { status: to, ...(to === OrderStatus.CANCELLED ? { cancelReason: reason } : {}) });
  const eventId = await appendToOutbox(connection, {
    topic: TOPICS.order,
    key: order.id,
    schema: OrderStatusChangedSchema,
    event: create(OrderStatusChangedSchema, {
      orderId: order.id,
      userId: order.userId,
      userEmail: order.userEmail,
      oldStatus: order.status,
      newStatus: to,
      reason,
      occurredTime: timestampNow(),
    }),
  });
  if (to === OrderStatus.CANCELLED) {
    await appendToOutbox(connection, {
      topic: TOPICS.order,
      key: order.id,
      schema: OrderCancelledSchema,
      event: create(OrderCancelledSchema, {
        orderId: order.id,
        userId: order.userId,
        userEmail: order.userEmail,
        reason,
        paymentId: order.paymentId ?? "",
        previousStatus: order.status,
        occurredTime: timestampNow(),
      }),
    });
  }
  return eventId;
}
