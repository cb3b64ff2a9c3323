import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  StockChangedSchema,
  StockCommittedSchema,
  StockReservationReleasedSchema,
  StockReturnedSchema,
} from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { OrderCancelledSchema, OrderStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { createEventPublisher, eventually, type EventPublisher } from "@shopmesh/platform/testing";
import { countRows, newId, outboxEvents, startInventory, stockedProduct, type RunningInventory } from "./support.js";

/**
 * Inventory owns the saga steps that change stock: it consumes the order topic of this
 * file's namespace through the platform's idempotent consumer, fed here with real order
 * events the way order's outbox relay publishes them.
 */
let inventory: RunningInventory;
let events: EventPublisher;

beforeAll(async () => {
  inventory = await startInventory();
  events = await createEventPublisher("/shopmesh/order");
}, 60_000);

afterAll(async () => {
  await events?.close();
  await inventory?.stop();
});

async function stockOf(productId: string) {
  const { stockLevel } = await inventory.anonymous.getStock({ productId });
  return { onHand: stockLevel!.onHand, reserved: stockLevel!.reserved, available: stockLevel!.available };
}

/** An order holding `quantity` of a fresh product with `onHand` in stock, reserved the way PlaceOrder does. */
async function reservedOrder(onHand: number, quantity: number) {
  const productId = await stockedProduct(inventory, onHand);
  const orderId = newId();
  await inventory.internal.reserveStock({ orderId, items: [{ productId, quantity }], ttlSeconds: 600 });
  return { orderId, productId };
}

const statusChanged = (orderId: string, oldStatus: OrderStatus, newStatus: OrderStatus) =>
  create(OrderStatusChangedSchema, { orderId, userId: newId(), oldStatus, newStatus, occurredTime: timestampNow() });

const cancelled = (orderId: string, previousStatus: OrderStatus) =>
  create(OrderCancelledSchema, { orderId, userId: newId(), reason: "changed my mind", previousStatus, occurredTime: timestampNow() });

/** Waits until the consumer recorded `eventId` as processed: everything before it on the order's partition was handled too. */
async function processed(eventId: string): Promise<void> {
  await eventually(
    async () => ((await countRows(inventory.database, "SELECT COUNT(*) AS n FROM processed_events WHERE event_id = ?", [eventId])) === 1 ? true : undefined),
    { what: `event ${eventId} processed` },
  );
}

describe("inventory reacts to the order's events", () => {
  test("when the order becomes PAID, then its reservation is committed: the units leave on_hand and reserved, once", async () => {
    const { orderId, productId } = await reservedOrder(10, 3);
    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 3, available: 7 });

    const paid = await events.publish(TOPICS.order, OrderStatusChangedSchema, orderId, statusChanged(orderId, OrderStatus.PENDING, OrderStatus.PAID));
    await processed(paid);

    expect(await stockOf(productId)).toEqual({ onHand: 7, reserved: 0, available: 7 });
    expect(await outboxEvents(inventory.database, StockCommittedSchema, orderId)).toHaveLength(1);
  });

  test("when the order is cancelled before it was paid, then its reservation is released and the stock is available again", async () => {
    const { orderId, productId } = await reservedOrder(5, 2);

    await processed(await events.publish(TOPICS.order, OrderCancelledSchema, orderId, cancelled(orderId, OrderStatus.PENDING)));

    expect(await stockOf(productId)).toEqual({ onHand: 5, reserved: 0, available: 5 });
    const released = await outboxEvents(inventory.database, StockReservationReleasedSchema, orderId);
    expect(released).toHaveLength(1);
    expect(released[0]!.reason).toBe("order_cancelled: changed my mind");
    expect(released[0]!.expired).toBe(false);
  });

  test("when the payment failed, then the reservation is released", async () => {
    const { orderId, productId } = await reservedOrder(4, 4);

    const failed = await events.publish(
      TOPICS.order,
      OrderStatusChangedSchema,
      orderId,
      statusChanged(orderId, OrderStatus.PENDING, OrderStatus.PAYMENT_FAILED),
    );
    await processed(failed);

    expect(await stockOf(productId)).toEqual({ onHand: 4, reserved: 0, available: 4 });
    expect((await outboxEvents(inventory.database, StockReservationReleasedSchema, orderId)).map((event) => event.reason)).toEqual(["payment_failed"]);
  });

  test("when a paid order is cancelled and the cancellation is delivered twice, then its stock is returned exactly once", async () => {
    const { orderId, productId } = await reservedOrder(10, 3);
    await processed(await events.publish(TOPICS.order, OrderStatusChangedSchema, orderId, statusChanged(orderId, OrderStatus.PENDING, OrderStatus.PAID)));
    expect(await stockOf(productId)).toEqual({ onHand: 7, reserved: 0, available: 7 });

    const cancellation = cancelled(orderId, OrderStatus.PAID);
    const eventId = await events.publish(TOPICS.order, OrderCancelledSchema, orderId, cancellation);
    await events.publish(TOPICS.order, OrderCancelledSchema, orderId, cancellation, eventId); // the same event redelivered
    await events.publish(TOPICS.order, OrderCancelledSchema, orderId, cancellation); // a second cancellation event for the order
    // A marker on the same partition after the duplicates (a status inventory ignores): once it is processed, so are they.
    const marker = await events.publish(TOPICS.order, OrderStatusChangedSchema, orderId, statusChanged(orderId, OrderStatus.CANCELLED, OrderStatus.CANCELLED));
    await processed(marker);

    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    const returned = await outboxEvents(inventory.database, StockReturnedSchema, orderId);
    expect(returned).toHaveLength(1);
    expect(returned[0]!.items).toEqual([expect.objectContaining({ productId, quantity: 3 })]);
    expect(returned[0]!.reason).toBe("order_cancelled: changed my mind");
    expect((await outboxEvents(inventory.database, StockChangedSchema, productId)).map((event) => event.reason)).toEqual([
      "set",
      "reserved",
      "committed",
      "returned",
    ]);
    expect(await countRows(inventory.database, "SELECT COUNT(*) AS n FROM reservations WHERE order_id = ? AND state = 'RETURNED'", [orderId])).toBe(1);
  });
});
