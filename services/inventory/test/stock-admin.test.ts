import { Code } from "@connectrpc/connect";
import { StockChangedSchema, StockLowSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { decodeEvent, headerString } from "@shopmesh/platform/data";
import { connectClient, eventually, testGroupId, testKafka, expectCode } from "@shopmesh/platform/testing";
import { newId, outboxEvents, startInventory, stockedProduct, type RunningInventory } from "./support.js";

let inventory: RunningInventory;

beforeAll(async () => {
  inventory = await startInventory();
});

afterAll(async () => {
  await inventory.stop();
});

describe("stock administration is for admins", () => {
  test("when SetStock comes without a token, then UNAUTHENTICATED; from a customer, PERMISSION_DENIED; neither creates stock", async () => {
    const productId = newId();
    await expectCode(inventory.anonymous.setStock({ productId, onHand: 5 }), Code.Unauthenticated);
    await expectCode(
      connectClient(InventoryService, inventory.port, { token: inventory.customerToken }).setStock({ productId, onHand: 5 }),
      Code.PermissionDenied,
    );
    const { stockLevel } = await inventory.anonymous.getStock({ productId });
    expect(stockLevel?.onHand).toBe(0);
    expect(stockLevel?.updateTime).toBeUndefined();
  });

  test("an admin sets on_hand and the threshold; anyone can read the level", async () => {
    const productId = newId();
    const { stockLevel } = await inventory.admin.setStock({ productId, onHand: 12, lowStockThreshold: 3 });
    expect(stockLevel).toMatchObject({ productId, onHand: 12, reserved: 0, available: 12, lowStockThreshold: 3 });
    expect(stockLevel?.updateTime).toBeDefined();

    const read = await inventory.anonymous.getStock({ productId });
    expect(read.stockLevel).toEqual(stockLevel);
  });

  test("SetStock without a threshold keeps the one already set", async () => {
    const productId = await stockedProduct(inventory, 10, 4);
    const { stockLevel } = await inventory.admin.setStock({ productId, onHand: 20 });
    expect(stockLevel).toMatchObject({ onHand: 20, lowStockThreshold: 4 });
  });

  test("repeating a SetStock with the same values changes nothing and emits no second StockChanged", async () => {
    const productId = newId();
    const first = await inventory.admin.setStock({ productId, onHand: 7, lowStockThreshold: 2 });
    const second = await inventory.admin.setStock({ productId, onHand: 7, lowStockThreshold: 2 });
    expect(second.stockLevel).toEqual(first.stockLevel);
    expect(await outboxEvents(inventory.database, StockChangedSchema, productId)).toHaveLength(1);
  });

  test("when a stock take sets on_hand below the reserved units, then FAILED_PRECONDITION and the level is unchanged", async () => {
    const productId = await stockedProduct(inventory, 10);
    await inventory.internal.reserveStock({ orderId: newId(), items: [{ productId, quantity: 6 }], ttlSeconds: 600 });
    await expectCode(inventory.admin.setStock({ productId, onHand: 5 }), Code.FailedPrecondition);
    expect((await inventory.anonymous.getStock({ productId })).stockLevel).toMatchObject({ onHand: 10, reserved: 6, available: 4 });
  });
});

describe("AdjustStock", () => {
  test("a delivery adds to on_hand and a write-off removes from it, each recorded with its reason", async () => {
    const productId = await stockedProduct(inventory, 10);
    await inventory.admin.adjustStock({ productId, delta: 5, reason: "supplier delivery 2024-117" });
    const { stockLevel } = await inventory.admin.adjustStock({ productId, delta: -3, reason: "damaged in storage" });
    expect(stockLevel).toMatchObject({ onHand: 12, available: 12 });
    const reasons = (await outboxEvents(inventory.database, StockChangedSchema, productId)).map((event) => event.reason);
    expect(reasons).toEqual(["set", "adjust: supplier delivery 2024-117", "adjust: damaged in storage"]);
  });

  test("when a write-off would take on_hand below the reserved units or below zero, then FAILED_PRECONDITION", async () => {
    const productId = await stockedProduct(inventory, 5);
    await inventory.internal.reserveStock({ orderId: newId(), items: [{ productId, quantity: 4 }], ttlSeconds: 600 });
    await expectCode(inventory.admin.adjustStock({ productId, delta: -2, reason: "write-off" }), Code.FailedPrecondition);
    await expectCode(inventory.admin.adjustStock({ productId: newId(), delta: -1, reason: "write-off" }), Code.FailedPrecondition);
    expect((await inventory.anonymous.getStock({ productId })).stockLevel).toMatchObject({ onHand: 5, reserved: 4 });
  });

  test("customers cannot adjust stock", async () => {
    const productId = await stockedProduct(inventory, 5);
    const customer = connectClient(InventoryService, inventory.port, { token: inventory.customerToken });
    await expectCode(customer.adjustStock({ productId, delta: 1, reason: "x" }), Code.PermissionDenied);
  });
});

describe("reading stock", () => {
  test("when a product was never stocked, then GetStock answers zeros with no update time", async () => {
    const { stockLevel } = await inventory.anonymous.getStock({ productId: newId() });
    expect([stockLevel?.onHand, stockLevel?.reserved, stockLevel?.available]).toEqual([0, 0, 0]);
    expect(stockLevel?.updateTime).toBeUndefined();
  });

  test("BatchGetStock answers in request order, with zeros for a product never stocked", async () => {
    const first = await stockedProduct(inventory, 3);
    const second = await stockedProduct(inventory, 8, 2);
    const unknown = newId();

    const { stockLevels } = await inventory.anonymous.batchGetStock({ productIds: [second, unknown, first] });

    expect(stockLevels.map((level) => [level.productId, level.onHand, level.available, level.lowStockThreshold])).toEqual([
      [second, 8, 8, 2],
      [unknown, 0, 0, 0],
      [first, 3, 3, 0],
    ]);
    expect(stockLevels[1]!.updateTime).toBeUndefined();
  });
});

describe("StockLow on Kafka", () => {
  test("when available drops to the threshold, StockLow is published once; a further drop below it publishes none", async () => {
    const productId = await stockedProduct(inventory, 5, 3);
    await inventory.internal.reserveStock({ orderId: newId(), items: [{ productId, quantity: 2 }], ttlSeconds: 600 }); // 5 -> 3: crosses
    await inventory.internal.reserveStock({ orderId: newId(), items: [{ productId, quantity: 1 }], ttlSeconds: 600 }); // 3 -> 2: still low
    // A marker after them on the same key (so the same partition): once its StockChanged is read,
    // so is anything the drop to 2 published after its own StockChanged.
    await inventory.admin.adjustStock({ productId, delta: 10, reason: "restock after the drops" }); // 2 -> 12

    const consumer = testKafka("inventory-test").consumer({ groupId: testGroupId("inventory-test") });
    const changes: number[] = [];
    const lows: Array<{ available: number; threshold: number }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.inventory, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== productId) return;
          const type = headerString(message.headers, "ce_type");
          if (type === StockChangedSchema.typeName) changes.push(decodeEvent(StockChangedSchema, message.value!).available);
          if (type === StockLowSchema.typeName) {
            const low = decodeEvent(StockLowSchema, message.value!);
            lows.push({ available: low.available, threshold: low.threshold });
          }
        },
      });
      // The relay publishes in commit order, so once the marker's StockChanged arrived every earlier event has too.
      await eventually(async () => (changes.includes(12) ? true : undefined), { timeoutMs: 20_000, what: "the marker's StockChanged on Kafka" });
    } finally {
      await consumer.disconnect();
    }
    expect(changes).toEqual([5, 3, 2, 12]);
    expect(lows).toEqual([{ available: 3, threshold: 3 }]);
  });
});
