import { Code } from "@connectrpc/connect";
import { StockChangedSchema, StockReservationReleasedSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { ReservationState } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { eventually, expectCode } from "@shopmesh/platform/testing";
import { countRows, newId, outboxEvents, startInventory, stockedProduct, type RunningInventory } from "./support.js";

// Reservations without a TTL of their own expire after 1 s here; two replicas sweep every 100 ms.
const SHORT_TTL = { RESERVATION_TTL_SECONDS: "1", RESERVATION_SWEEP_INTERVAL_MS: "100" };
let inventory: RunningInventory;
let replica: RunningInventory;

beforeAll(async () => {
  inventory = await startInventory(SHORT_TTL);
  replica = await startInventory(SHORT_TTL, inventory.database);
});

afterAll(async () => {
  await replica.stop({ drop: false });
  await inventory.stop();
});

async function reservedUnits(productId: string): Promise<number> {
  return (await inventory.anonymous.getStock({ productId })).stockLevel!.reserved;
}

describe("the expiry sweeper", () => {
  test("when a reservation passes its TTL uncommitted, then its stock returns, it is EXPIRED, and released + changed events say 'expired'", async () => {
    const productId = await stockedProduct(inventory, 5);
    const orderId = newId();
    await inventory.internal.reserveStock({ orderId, items: [{ productId, quantity: 3 }] });
    expect(await reservedUnits(productId)).toBe(3);

    await eventually(async () => ((await reservedUnits(productId)) === 0 ? true : undefined), { timeoutMs: 10_000, what: "the reservation to expire" });

    // Releasing an expired reservation is a no-op that reports it; committing it is refused.
    const { reservation } = await inventory.internal.releaseReservation({ orderId, reason: "order_cancelled" });
    expect(reservation!.state).toBe(ReservationState.EXPIRED);
    await expectCode(inventory.internal.commitReservation({ orderId }), Code.FailedPrecondition);
    expect((await inventory.anonymous.getStock({ productId })).stockLevel).toMatchObject({ onHand: 5, reserved: 0, available: 5 });

    const released = await outboxEvents(inventory.database, StockReservationReleasedSchema, orderId);
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({ reason: "expired", expired: true, items: [expect.objectContaining({ productId, quantity: 3 })] });
    const changes = await outboxEvents(inventory.database, StockChangedSchema, productId);
    expect(changes.map((event) => [event.reason, event.available])).toEqual([
      ["set", 5],
      ["reserved", 2],
      ["expired", 5],
    ]);
  });

  test("a reservation with a TTL still running is left alone while shorter ones around it expire", async () => {
    const productId = await stockedProduct(inventory, 10);
    await inventory.internal.reserveStock({ orderId: newId(), items: [{ productId, quantity: 4 }], ttlSeconds: 600 });
    const shortOrder = newId();
    await inventory.internal.reserveStock({ orderId: shortOrder, items: [{ productId, quantity: 2 }] });

    await eventually(async () => ((await outboxEvents(inventory.database, StockReservationReleasedSchema, shortOrder)).length === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: "the short reservation to expire",
    });
    expect(await reservedUnits(productId)).toBe(4);
  });

  test("when two replicas sweep the same expired reservations, then each is expired exactly once", async () => {
    const productId = await stockedProduct(inventory, 40);
    const orders = Array.from({ length: 20 }, () => newId());
    await Promise.all(orders.map((orderId) => inventory.internal.reserveStock({ orderId, items: [{ productId, quantity: 2 }] })));

    await eventually(async () => ((await reservedUnits(productId)) === 0 ? true : undefined), { timeoutMs: 15_000, what: "all reservations to expire" });
    // Both sweepers finish the pass in hand and stop, so no second expiry can land after the count.
    await Promise.all([inventory.app.sweeper.stop(), replica.app.sweeper.stop()]);
    inventory.app.sweeper.start();
    replica.app.sweeper.start();

    const releasedPerOrder = await Promise.all(orders.map((orderId) => outboxEvents(inventory.database, StockReservationReleasedSchema, orderId)));
    expect(releasedPerOrder.map((events) => events.length)).toEqual(orders.map(() => 1));
    const expiredChanges = (await outboxEvents(inventory.database, StockChangedSchema, productId)).filter((event) => event.reason === "expired");
    expect(expiredChanges).toHaveLength(20);
    expect(await countRows(inventory.database, "SELECT COUNT(*) AS n FROM reservations WHERE state = 'EXPIRED' AND order_id IN (?)", [orders])).toBe(20);
  });
});
