import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { waitForRedis, type Redis } from "@shopmesh/platform/redis";
import { connectClient, testLogger, testRedis, expectCode } from "@shopmesh/platform/testing";
import { createCatalogClient } from "../src/clients/catalog.js";
import { createInventoryClient } from "../src/clients/inventory.js";
import { createCartServer } from "../src/server.js";
import { cartKey, createCartStore } from "../src/store/carts.js";
import { startCartWithFakes, type CartWithFakes, type FakeCatalog, type FakeInventory } from "./fakes.js";

const TTL_SECONDS = 3_600;
const MAX_LINES = 4;
const logger = testLogger("cart");

let cart: CartWithFakes;
let tokens: CartWithFakes["tokens"];
let catalog: FakeCatalog;
let inventory: FakeInventory;
let port: number;
let redis: Redis;

/** A signed-in customer with a cart of their own. */
const newShopper = () => cart.newShopper();

/** A product the fake catalog sells and the fake inventory stocks. */
const stockedProduct = (...args: Parameters<CartWithFakes["stockedProduct"]>) => cart.stockedProduct(...args);

beforeAll(async () => {
  cart = await startCartWithFakes({
    CART_TTL_SECONDS: String(TTL_SECONDS),
    CART_MAX_LINES: String(MAX_LINES),
    // Generous: these tests are about cart rules, not deadlines (breaker.test.ts covers those).
    DOWNSTREAM_TIMEOUT_MS: "5000",
  });
  ({ tokens, catalog, inventory, port, redis } = cart);
});

afterAll(async () => {
  await cart?.stop();
});

describe("cart contents", () => {
  test("add, update, remove and clear keep the cart and its integer totals right", async () => {
    const { userId, client } = await newShopper();
    const mug = stockedProduct(10, { name: "Mug", priceMinor: 1_999n });
    const tee = stockedProduct(10, { name: "Tee", priceMinor: 2_500n });

    await client.addItem({ productId: mug.id, quantity: 2 });
    const afterAdds = (await client.addItem({ productId: tee.id, quantity: 1 })).cart!;
    expect(afterAdds.userId).toBe(userId);
    expect(afterAdds.lines.map((line) => [line.name, line.quantity, line.lineTotal?.amountMinor])).toEqual([
      ["Mug", 2, 3_998n],
      ["Tee", 1, 2_500n],
    ]);
    expect(afterAdds.subtotal).toMatchObject({ currency: "EUR", amountMinor: 6_498n });
    expect(afterAdds.itemCount).toBe(3);
    expect(afterAdds.lines.every((line) => line.inStock && !line.priceChanged)).toBe(true);
    expect(afterAdds.updateTime).toBeDefined();

    const afterMore = (await client.addItem({ productId: mug.id, quantity: 1 })).cart!;
    expect(afterMore.lines[0]?.quantity).toBe(3);

    const afterUpdate = (await client.updateItemQuantity({ productId: tee.id, quantity: 4 })).cart!;
    expect(afterUpdate.lines.map((line) => line.quantity)).toEqual([3, 4]);
    expect(afterUpdate.subtotal?.amountMinor).toBe(3n * 1_999n + 4n * 2_500n);

    const afterRemove = (await client.removeItem({ productId: mug.id })).cart!;
    expect(afterRemove.lines.map((line) => line.productId)).toEqual([tee.id]);
    expect(afterRemove.subtotal?.amountMinor).toBe(10_000n);

    expect((await client.getCart({})).cart?.itemCount).toBe(4);
    const cleared = (await client.clearCart({})).cart!;
    expect(cleared.lines).toEqual([]);
    expect(cleared.itemCount).toBe(0);
    expect(await redis.exists(cartKey(userId))).toBe(0);
  });

  test("when a shopper has never added anything, then GetCart returns an empty cart", async () => {
    const { userId, client } = await newShopper();
    const cart = (await client.getCart({})).cart!;
    expect(cart).toMatchObject({ userId, lines: [], itemCount: 0 });
    expect(cart.subtotal).toBeUndefined();
  });

  test("when a product is removed that is not in the cart, then the call succeeds and changes nothing", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct();
    await client.addItem({ productId: mug.id, quantity: 1 });
    const cart = (await client.removeItem({ productId: randomUUID() })).cart!;
    expect(cart.lines.map((line) => line.quantity)).toEqual([1]);
  });

  test("when the quantity of a product not in the cart is set, then NOT_FOUND", async () => {
    const { client } = await newShopper();
    await expectCode(client.updateItemQuantity({ productId: stockedProduct().id, quantity: 2 }), Code.NotFound);
  });

  test("when the catalog price changes after the add, then GetCart shows the current price and flags the change", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct(10, { priceMinor: 1_000n });
    await client.addItem({ productId: mug.id, quantity: 2 });
    catalog.products.set(mug.id, { ...mug, price: { ...mug.price!, amountMinor: 1_200n } });

    const line = (await client.getCart({})).cart!.lines[0]!;
    expect(line.priceChanged).toBe(true);
    expect(line.addedUnitPrice?.amountMinor).toBe(1_000n);
    expect(line.unitPrice?.amountMinor).toBe(1_200n);
    expect(line.lineTotal?.amountMinor).toBe(2_400n);
  });

  test("when stock drops below a line's quantity after the add, then the line is not in stock", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct(5);
    await client.addItem({ productId: mug.id, quantity: 3 });
    inventory.available.set(mug.id, 2);
    expect((await client.getCart({})).cart!.lines[0]?.inStock).toBe(false);
  });
});

describe("what AddItem and UpdateItemQuantity refuse", () => {
  test("when the product is unknown to the catalog, then NOT_FOUND 'product not found'", async () => {
    const { client } = await newShopper();
    const error = await expectCode(client.addItem({ productId: randomUUID(), quantity: 1 }), Code.NotFound);
    expect(error.rawMessage).toBe("product not found");
  });

  test("when the product is no longer sold, then FAILED_PRECONDITION and the cart stays empty", async () => {
    const { userId, client } = await newShopper();
    const retired = stockedProduct(10, { active: false });
    await expectCode(client.addItem({ productId: retired.id, quantity: 1 }), Code.FailedPrecondition);
    expect(await redis.exists(cartKey(userId))).toBe(0);
  });

  test("when the total quantity would exceed what inventory has, then FAILED_PRECONDITION 'only N left' and the line keeps its quantity", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct(5);
    await client.addItem({ productId: mug.id, quantity: 3 });
    const error = await expectCode(client.addItem({ productId: mug.id, quantity: 3 }), Code.FailedPrecondition);
    expect(error.rawMessage).toBe("only 5 left (3 already in your cart)");
    const tooMany = await expectCode(client.updateItemQuantity({ productId: mug.id, quantity: 6 }), Code.FailedPrecondition);
    expect(tooMany.rawMessage).toBe("only 5 left");
    expect((await client.getCart({})).cart!.lines[0]?.quantity).toBe(3);
  });

  test("when stock has dropped, then lowering a line's quantity still works", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct(5);
    await client.addItem({ productId: mug.id, quantity: 5 });
    inventory.available.set(mug.id, 0);
    expect((await client.updateItemQuantity({ productId: mug.id, quantity: 2 })).cart!.lines[0]?.quantity).toBe(2);
  });

  test.each([0, 100])("when the quantity is %i, then INVALID_ARGUMENT from the contract", async (quantity) => {
    const { client } = await newShopper();
    const mug = stockedProduct();
    await expectCode(client.addItem({ productId: mug.id, quantity }), Code.InvalidArgument);
    await expectCode(client.updateItemQuantity({ productId: mug.id, quantity }), Code.InvalidArgument);
  });

  test("when a line would go over 99 units, then FAILED_PRECONDITION (each request alone is valid)", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct(500);
    await client.addItem({ productId: mug.id, quantity: 60 });
    const error = await expectCode(client.addItem({ productId: mug.id, quantity: 40 }), Code.FailedPrecondition);
    expect(error.rawMessage).toContain("at most 99 units");
    expect((await client.addItem({ productId: mug.id, quantity: 39 })).cart!.lines[0]?.quantity).toBe(99);
  });

  test("when the cart already holds the maximum number of products, then a new product is FAILED_PRECONDITION but more of one in it is fine", async () => {
    const { client } = await newShopper();
    const products = Array.from({ length: MAX_LINES }, () => stockedProduct());
    for (const product of products) await client.addItem({ productId: product.id, quantity: 1 });
    const error = await expectCode(client.addItem({ productId: stockedProduct().id, quantity: 1 }), Code.FailedPrecondition);
    expect(error.rawMessage).toContain(`at most ${MAX_LINES} different products`);
    expect((await client.addItem({ productId: products[0]!.id, quantity: 1 })).cart!.itemCount).toBe(MAX_LINES + 1);
  });

  test("when a product is priced in another currency than the cart, then FAILED_PRECONDITION", async () => {
    const { client } = await newShopper();
    await client.addItem({ productId: stockedProduct(10, { currency: "EUR" }).id, quantity: 1 });
    const error = await expectCode(client.addItem({ productId: stockedProduct(10, { currency: "USD" }).id, quantity: 1 }), Code.FailedPrecondition);
    expect(error.rawMessage).toContain("EUR");
  });
});

describe("concurrency", () => {
  test("when 50 AddItem(1) of the same product run at once, then the line holds exactly 50", async () => {
    const { userId, client } = await newShopper();
    const mug = stockedProduct(1_000);
    await Promise.all(Array.from({ length: 50 }, () => client.addItem({ productId: mug.id, quantity: 1 })));
    expect((await client.getCart({})).cart!.lines.map((line) => line.quantity)).toEqual([50]);
    expect(await redis.hget(cartKey(userId), `qty:${mug.id}`)).toBe("50");
  });

  test("when 10 AddItem(1) race for the last 4 units, then exactly 4 succeed and the rest get FAILED_PRECONDITION", async () => {
    const { client } = await newShopper();
    const mug = stockedProduct(4);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.addItem({ productId: mug.id, quantity: 1 })));
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(4);
    const refused = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    expect(refused.map((result) => Code[ConnectError.from(result.reason).code])).toEqual(Array(6).fill("FailedPrecondition"));
    expect((await client.getCart({})).cart!.lines[0]?.quantity).toBe(4);
  });
});

describe("ownership and authentication", () => {
  test("when two shoppers fill their carts, then each sees only their own", async () => {
    const alice = await newShopper();
    const bob = await newShopper();
    const mug = stockedProduct();
    const tee = stockedProduct();
    await alice.client.addItem({ productId: mug.id, quantity: 1 });
    await bob.client.addItem({ productId: tee.id, quantity: 2 });

    const aliceCart = (await alice.client.getCart({})).cart!;
    const bobCart = (await bob.client.getCart({})).cart!;
    expect(aliceCart.userId).toBe(alice.userId);
    expect(aliceCart.lines.map((line) => line.productId)).toEqual([mug.id]);
    expect(bobCart.userId).toBe(bob.userId);
    expect(bobCart.lines.map((line) => line.productId)).toEqual([tee.id]);

    await bob.client.clearCart({});
    expect((await alice.client.getCart({})).cart!.lines).toHaveLength(1);
  });

  test("when there is no token, then every method is UNAUTHENTICATED", async () => {
    const anonymous = connectClient(CartService, port);
    const productId = stockedProduct().id;
    await expectCode(anonymous.getCart({}), Code.Unauthenticated);
    await expectCode(anonymous.addItem({ productId, quantity: 1 }), Code.Unauthenticated);
    await expectCode(anonymous.updateItemQuantity({ productId, quantity: 1 }), Code.Unauthenticated);
    await expectCode(anonymous.removeItem({ productId }), Code.Unauthenticated);
    await expectCode(anonymous.clearCart({}), Code.Unauthenticated);
  });
});

describe("expiry", () => {
  test("a cart gets the configured TTL on the first write and every later write starts it again", async () => {
    const { userId, client } = await newShopper();
    const mug = stockedProduct();
    await client.addItem({ productId: mug.id, quantity: 1 });
    expect(await redis.ttl(cartKey(userId))).toBeGreaterThan(TTL_SECONDS - 10);

    for (const write of [
      () => client.addItem({ productId: mug.id, quantity: 1 }),
      () => client.updateItemQuantity({ productId: mug.id, quantity: 1 }),
      () => client.addItem({ productId: stockedProduct().id, quantity: 1 }).then(() => client.removeItem({ productId: mug.id })),
    ]) {
      await redis.expire(cartKey(userId), 100);
      await write();
      expect(await redis.ttl(cartKey(userId))).toBeGreaterThan(TTL_SECONDS - 10);
    }
  });

  test("reading a cart does not extend its life", async () => {
    const { userId, client } = await newShopper();
    await client.addItem({ productId: stockedProduct().id, quantity: 1 });
    await redis.expire(cartKey(userId), 100);
    await client.getCart({});
    expect(await redis.ttl(cartKey(userId))).toBeLessThanOrEqual(100);
  });
});

describe("when Redis is unreachable", () => {
  test("then calls fail UNAVAILABLE with a plain message and the server reports not ready", async () => {
    // A client whose connection is gone, as when Redis goes away. (A client pointed at a dead
    // port would do too, but ioredis keeps a timer alive for a while after it is closed.)
    const deadRedis = testRedis();
    await waitForRedis(deadRedis);
    deadRedis.disconnect();
    const catalogClient = createCatalogClient({ address: `127.0.0.1:${catalog.port}`, logger });
    const inventoryClient = createInventoryClient({ address: `127.0.0.1:${inventory.port}`, logger });
    const server = createCartServer({
      redis: deadRedis,
      carts: createCartStore(deadRedis, logger, { ttlSeconds: TTL_SECONDS, maxLines: MAX_LINES }),
      catalog: catalogClient,
      inventory: inventoryClient,
      logger,
      verifier: tokens.verifier,
    });
    const deadPort = await server.listen(0, "127.0.0.1");
    try {
      const client = connectClient(CartService, deadPort, { token: await tokens.token(randomUUID()) });
      const error = await expectCode(client.getCart({}), Code.Unavailable);
      expect(error.rawMessage).toBe("cart storage is unavailable; try again shortly");
      const addError = await expectCode(client.addItem({ productId: stockedProduct().id, quantity: 1 }), Code.Unavailable);
      expect(addError.rawMessage).not.toMatch(/at |stack|ECONNREFUSED/);
      expect(await server.checkReadiness()).toBe(false);
    } finally {
      await server.shutdown(0);
      catalogClient.close();
      inventoryClient.close();
    }
  });
});
