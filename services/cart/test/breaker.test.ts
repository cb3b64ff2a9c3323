import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { connectClient, eventually, grpcClient } from "@shopmesh/platform/testing";
import { startCartWithFakes, type CartWithFakes, type FakeCatalog } from "./fakes.js";

const BREAKER_THRESHOLD = 3;
/** Long enough that the fast calls below all land while the breaker is still open. */
const HALF_OPEN_AFTER_MS = 3_000;
const DOWNSTREAM_TIMEOUT_MS = 2_000;
/**
 * An answer from an open breaker: no network, no deadline to wait for. The bound is generous
 * (under a third of the deadline) because CI runs this beside whole meshes on two cores; the
 * proof that nothing reaches the network is the call counter, not the clock.
 */
const FAST_MS = 600;

let cart: CartWithFakes;
let catalog: FakeCatalog;

/** Runs `call`, expects UNAVAILABLE, and returns how long the answer took. */
async function timedUnavailable(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const error = await call().then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );
  const elapsed = performance.now() - started;
  expect(error && Code[error.code]).toBe(Code[Code.Unavailable]);
  expect(error?.rawMessage).toBe("catalog is unavailable; try again shortly");
  return elapsed;
}

/** A shopper with one line in their cart, added while the catalog was up. */
async function shopperWithCart() {
  const { client } = await cart.newShopper();
  await client.addItem({ productId: cart.stockedProduct(10).id, quantity: 1 });
  return client;
}

beforeAll(async () => {
  cart = await startCartWithFakes({
    BREAKER_THRESHOLD: String(BREAKER_THRESHOLD),
    BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_AFTER_MS),
    DOWNSTREAM_TIMEOUT_MS: String(DOWNSTREAM_TIMEOUT_MS),
  });
  const { inventory, logger } = cart;
  catalog = cart.catalog;
  // The first calls through a cold process are slow; warm the fakes so the tight deadline only meets steady-state latency.
  const headers = { authorization: `Bearer ${await cart.tokens.token(randomUUID())}` };
  const warmCatalog = grpcClient(CatalogService, catalog.port, logger);
  const warmInventory = grpcClient(InventoryService, inventory.port, logger);
  await warmCatalog.batchGetProducts({ ids: [randomUUID()] }, { headers });
  await warmInventory.batchGetStock({ productIds: [randomUUID()] }, { headers });
  await warmInventory.getStock({ productId: randomUUID() }, { headers });
  warmCatalog.close();
  warmInventory.close();
});

afterAll(async () => {
  await cart?.stop();
});

/** Waits until `client`'s cart is priced again, i.e. the catalog answers and the breaker closed. */
async function untilPricedAgain(client: Awaited<ReturnType<typeof shopperWithCart>>) {
  return eventually(
    async () => {
      const cart = (await client.getCart({})).cart;
      return cart?.lines.length === 1 ? cart : undefined;
    },
    { timeoutMs: 15_000, what: "cart to reach the catalog again" },
  );
}

/** The breaker opens after BREAKER_THRESHOLD failures; these calls must then never reach the network. */
async function expectFastFailures(client: Awaited<ReturnType<typeof shopperWithCart>>) {
  const times: number[] = [];
  for (let call = 0; call < 3; call++) times.push(await timedUnavailable(() => client.getCart({})));
  expect(Math.max(...times)).toBeLessThan(FAST_MS);
}

describe("when the catalog goes away", () => {
  test("then cart answers UNAVAILABLE, fails fast once the breaker is open, and recovers when the catalog is back on its port", async () => {
    const client = await shopperWithCart();
    const catalogPort = catalog.port;
    await catalog.stop();
    try {
      for (let call = 0; call < BREAKER_THRESHOLD; call++) await timedUnavailable(() => client.getCart({}));
      await expectFastFailures(client);

      // Cart itself stays up: a call that needs no catalog still works while the breaker is open.
      const bystander = connectClient(CartService, cart.port, { token: await cart.tokens.token(randomUUID()) });
      expect((await bystander.clearCart({})).cart?.lines).toEqual([]);
    } finally {
      await catalog.start();
    }
    expect(catalog.port).toBe(catalogPort);
    expect((await untilPricedAgain(client)).lines[0]?.quantity).toBe(1);
  });

  test("when the catalog hangs, then calls end UNAVAILABLE at the deadline, and once the breaker opens they fail fast without calling it", async () => {
    const client = await shopperWithCart();
    catalog.setDelay(10_000);
    try {
      for (let call = 0; call < BREAKER_THRESHOLD; call++) {
        const elapsed = await timedUnavailable(() => client.getCart({}));
        expect(elapsed).toBeGreaterThanOrEqual(DOWNSTREAM_TIMEOUT_MS - 20);
        expect(elapsed).toBeLessThan(2 * DOWNSTREAM_TIMEOUT_MS);
      }
      const callsBefore = catalog.calls.get("BatchGetProducts");
      await expectFastFailures(client);
      expect(catalog.calls.get("BatchGetProducts")).toBe(callsBefore);
    } finally {
      catalog.setDelay(0);
    }
    expect((await untilPricedAgain(client)).lines[0]?.quantity).toBe(1);
  });
});
