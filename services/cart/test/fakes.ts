/**
 * Stand-ins for catalog and inventory in cart's component tests: real gRPC servers built
 * with the platform's createRpcServer on a free port, implementing only the methods cart
 * calls (everything else answers UNIMPLEMENTED). They can be stopped and started again on
 * the same port, which is what the circuit-breaker tests need. `startCartWithFakes` puts a
 * real cart server in front of a fresh pair.
 */
import { randomUUID } from "node:crypto";
import { create, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { CatalogService, ProductSchema, type Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { InventoryService, StockLevelSchema } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { createRpcServer, registration, type Logger, type RpcServer, type TokenVerifier } from "@shopmesh/platform";
import { waitForRedis } from "@shopmesh/platform/redis";
import { connectClient, createTestTokens, TEST_REDIS_URL, testLogger, testRedis } from "@shopmesh/platform/testing";
import { buildCart } from "../src/app.js";
import { loadCartConfig } from "../src/config.js";
import { cartKey } from "../src/store/carts.js";

export interface FakeServer {
  /** The port it listens on; kept across stop/start. */
  readonly port: number;
  /** Calls received per method name, so tests can tell "answered fast" from "never asked". */
  readonly calls: Map<string, number>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** `verifier` checks the caller's token that cart forwards, as the real services do. */
export interface FakeOptions {
  logger: Logger;
  verifier: TokenVerifier;
}

async function fakeServer<S extends DescService>(name: string, service: S, impl: Partial<ServiceImpl<S>>, options: FakeOptions): Promise<FakeServer> {
  const calls = new Map<string, number>();
  const full: Record<string, unknown> = {};
  for (const method of service.methods) {
    const handler = (impl as Record<string, ((...args: unknown[]) => unknown) | undefined>)[method.localName];
    full[method.localName] = (...args: unknown[]) => {
      calls.set(method.name, (calls.get(method.name) ?? 0) + 1);
      if (!handler) throw new ConnectError(`${name} fake does not implement ${method.name}`, Code.Unimplemented);
      return handler(...args);
    };
  }
  let server: RpcServer | undefined;
  let port = 0;
  const start = async () => {
    server = createRpcServer({
      name,
      logger: options.logger,
      verifier: options.verifier,
      services: [registration(service, full as unknown as ServiceImpl<S>)],
    });
    port = await server.listen(port, "127.0.0.1");
  };
  await start();
  return {
    get port() {
      return port;
    },
    calls,
    start,
    async stop() {
      await server?.shutdown(0);
      server = undefined;
    },
  };
}

/** Waits `ms`, or less when the caller gives up (so a hanging fake leaves no timer behind). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

export interface FakeCatalog extends FakeServer {
  products: Map<string, Product>;
  /** Delays each answer by `ms`, to play a catalog that hangs. */
  setDelay(ms: number): void;
}

/** A product as the catalog returns it; ids are fresh UUIDs unless given. */
export function buildProduct(overrides: Partial<Omit<Product, "$typeName" | "price">> & { priceMinor?: bigint; currency?: string } = {}): Product {
  const { priceMinor = 1_999n, currency = "EUR", ...fields } = overrides;
  return create(ProductSchema, {
    id: randomUUID(),
    sku: "MUG-1",
    name: "Mug",
    imageUrl: "https://img.example/mug.png",
    active: true,
    ...fields,
    price: { currency, amountMinor: priceMinor },
  });
}

export async function startFakeCatalog(options: FakeOptions): Promise<FakeCatalog> {
  const products = new Map<string, Product>();
  const state = { delayMs: 0 };
  const server = await fakeServer(
    "fake-catalog",
    CatalogService,
    {
      async batchGetProducts(request, ctx) {
        if (state.delayMs > 0) await sleep(state.delayMs, ctx.signal);
        const found = request.ids.map((id) => products.get(id)).filter((product) => product !== undefined);
        return { products: found, missingIds: request.ids.filter((id) => !products.has(id)) };
      },
    },
    options,
  );
  return Object.assign(server, {
    products,
    setDelay(ms: number) {
      state.delayMs = ms;
    },
  });
}

export interface FakeInventory extends FakeServer {
  /** Available units per product id; absent means never stocked (0). */
  available: Map<string, number>;
  /** Makes every stock read fail with `code` (an inventory in trouble); undefined answers again. */
  failWith(code: Code | undefined): void;
}

export async function startFakeInventory(options: FakeOptions): Promise<FakeInventory> {
  const available = new Map<string, number>();
  const state: { failure?: Code | undefined } = {};
  const level = (productId: string) => create(StockLevelSchema, { productId, onHand: available.get(productId) ?? 0, available: available.get(productId) ?? 0 });
  const healthy = () => {
    if (state.failure !== undefined) throw new ConnectError("fake inventory is failing", state.failure);
  };
  const server = await fakeServer(
    "fake-inventory",
    InventoryService,
    {
      getStock(request) {
        healthy();
        return { stockLevel: level(request.productId) };
      },
      batchGetStock(request) {
        healthy();
        return { stockLevels: request.productIds.map(level) };
      },
    },
    options,
  );
  return Object.assign(server, {
    available,
    failWith(code: Code | undefined) {
      state.failure = code;
    },
  });
}

/**
 * A real cart server on port 0 in front of a fresh fake catalog and inventory, with this test
 * file's Redis keys. `env` adds to (or overrides) cart's configuration.
 */
export async function startCartWithFakes(env: Record<string, string> = {}) {
  const logger = testLogger("cart");
  const tokens = await createTestTokens();
  const catalog = await startFakeCatalog({ logger, verifier: tokens.verifier });
  const inventory = await startFakeInventory({ logger, verifier: tokens.verifier });
  const config = loadCartConfig({
    ...process.env,
    NODE_ENV: "test",
    REDIS_URL: TEST_REDIS_URL,
    CATALOG_ADDR: `127.0.0.1:${catalog.port}`,
    INVENTORY_ADDR: `127.0.0.1:${inventory.port}`,
    ...env,
  });
  const app = await buildCart(config, logger, { verifier: tokens.verifier });
  const port = await app.server.listen(0, "127.0.0.1");
  const redis = testRedis();
  await waitForRedis(redis);
  const users: string[] = [];
  return {
    logger,
    tokens,
    catalog,
    inventory,
    app,
    port,
    redis,
    /** A signed-in customer with a cart client of their own (Connect, as through the edge); the cart is deleted at stop. */
    async newShopper() {
      const userId = randomUUID();
      users.push(userId);
      return { userId, client: connectClient(CartService, port, { token: await tokens.token(userId) }) };
    },
    /** A product the fake catalog sells and the fake inventory holds `units` of. */
    stockedProduct(units = 100, overrides: Parameters<typeof buildProduct>[0] = {}): Product {
      const product = buildProduct(overrides);
      catalog.products.set(product.id, product);
      inventory.available.set(product.id, units);
      return product;
    },
    async stop() {
      await app.server.shutdown(1_000);
      for (const closer of app.closers) await closer.close();
      if (users.length > 0) await redis.del(...users.map(cartKey));
      await redis.quit();
      await catalog.stop();
      await inventory.stop();
    },
  };
}

export type CartWithFakes = Awaited<ReturnType<typeof startCartWithFakes>>;
