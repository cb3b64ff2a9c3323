import { Counter, METRICS, type Logger, type Registry } from "@shopmesh/platform";
import { type Redis } from "@shopmesh/platform/redis";
import type { ProductRecord } from "../domain/product.js";
import { createSingleFlight } from "./single-flight.js";

/** One page of ListProducts as the cache keeps it. */
export interface ListPage {
  products: ProductRecord[];
  nextPageToken: string;
}

export interface CatalogCacheOptions {
  redis: Redis;
  logger: Logger;
  /** Where `shopmesh_cache_requests_total` is registered (the server's metrics registry). */
  registry: Registry;
  productTtlSeconds: number;
  listTtlSeconds: number;
}

type CacheName = "product" | "list";

// The version in the keys changes with the stored shape (v2: products carry `version`), so a
// new build never reads what an old one cached.
const PRODUCT_PREFIX = "catalog:product:v2:";
const LIST_PREFIX = "catalog:list:v2:";
/** Bumped on every product change: list pages are keyed by it, so one INCR retires them all. */
const LIST_GENERATION_KEY = "catalog:list:v2:generation";

interface StoredProduct extends Omit<ProductRecord, "priceMinor" | "createdAt" | "updatedAt"> {
  priceMinor: string;
  createdAt: string;
  updatedAt: string;
}

const toStored = (product: ProductRecord): StoredProduct => ({
  ...product,
  priceMinor: product.priceMinor.toString(),
  createdAt: product.createdAt.toISOString(),
  updatedAt: product.updatedAt.toISOString(),
});

const fromStored = (stored: StoredProduct): ProductRecord => ({
  ...stored,
  priceMinor: BigInt(stored.priceMinor),
  createdAt: new Date(stored.createdAt),
  updatedAt: new Date(stored.updatedAt),
});

function requestCounter(registry: Registry): Counter<"cache" | "result"> {
  const { name, help, labelNames } = METRICS.cacheRequests;
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<"cache" | "result">;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * Redis cache-aside for products and ListProducts pages.
 *
 * - Concurrent misses on one key share one load (in-process single flight), so a cold hot
 *   key costs one database query per replica.
 * - A change deletes the product's key and bumps the list generation after the commit; a load
 *   that started before any change is served but not stored, so it cannot re-plant old data.
 *   Entries also expire (TTL), which bounds staleness if Redis missed an invalidation.
 * - Redis failures never fail a read: the lookup counts as `error`, is logged once per outage,
 *   and the request is served from MySQL.
 */
export function createCatalogCache(options: CatalogCacheOptions) {
  const { redis, logger } = options;
  const requests = requestCounter(options.registry);
  const flights = createSingleFlight();
  let changes = 0;
  let degraded = false;

  function failed(cache: CacheName, err: unknown): void {
    requests.inc({ cache, result: "error" });
    if (!degraded) logger.warn({ err: (err as Error).message, cache }, "cache unavailable; serving from MySQL");
    degraded = true;
  }

  function reachable(): void {
    if (degraded) logger.info("cache reachable again");
    degraded = false;
  }

  async function read(cache: CacheName, key: string): Promise<string | null> {
    try {
      const value = await redis.get(key);
      reachable();
      requests.inc({ cache, result: value === null ? "miss" : "hit" });
      return value;
    } catch (err) {
      failed(cache, err);
      return null;
    }
  }

  async function write(entries: Array<[key: string, value: string]>, ttlSeconds: number): Promise<void> {
    if (entries.length === 0) return;
    try {
      const batch = redis.multi();
      for (const [key, value] of entries) batch.set(key, value, "EX", ttlSeconds);
      await batch.exec();
    } catch (err) {
      // The value was served; failing to store it only costs the next reader a query.
      if (!degraded) logger.warn({ err: (err as Error).message }, "cache write failed");
    }
  }

  const productKey = (id: string) => `${PRODUCT_PREFIX}${id}`;

  return {
    /** The product from the cache, or from `load` (and then cached). Undefined when it does not exist. */
    getProduct(id: string, load: () => Promise<ProductRecord | undefined>): Promise<ProductRecord | undefined> {
      const key = productKey(id);
      return flights.run(key, async () => {
        const changesAtStart = changes;
        const cached = await read("product", key);
        if (cached !== null) return fromStored(JSON.parse(cached) as StoredProduct);
        const product = await load();
        if (product && changes === changesAtStart) await write([[key, JSON.stringify(toStored(product))]], options.productTtlSeconds);
        return product;
      });
    },

    /** Several products: one MGET, then one `loadMany` for the misses nobody else is loading. */
    async getProducts(ids: readonly string[], loadMany: (ids: string[]) => Promise<ProductRecord[]>): Promise<Map<string, ProductRecord>> {
      const found = new Map<string, ProductRecord>();
      let cached: Array<string | null>;
      try {
        cached = await redis.mget(ids.map(productKey));
        reachable();
      } catch (err) {
        failed("product", err);
        cached = ids.map(() => null);
      }
      const missing: string[] = [];
      ids.forEach((id, index) => {
        const value = cached[index];
        if (value !== null && value !== undefined) found.set(id, fromStored(JSON.parse(value) as StoredProduct));
        else missing.push(id);
      });
      if (!degraded) {
        requests.inc({ cache: "product", result: "hit" }, found.size);
        requests.inc({ cache: "product", result: "miss" }, missing.length);
      }
      if (missing.length === 0) return found;

      const toLoad = missing.filter((id) => !flights.has(productKey(id)));
      const changesAtStart = changes;
      const batch =
        toLoad.length === 0
          ? Promise.resolve(new Map<string, ProductRecord>())
          : loadMany(toLoad).then(async (products) => {
              if (changes === changesAtStart) {
                await write(
                  products.map((product) => [productKey(product.id), JSON.stringify(toStored(product))]),
                  options.productTtlSeconds,
                );
              }
              return new Map(products.map((product) => [product.id, product]));
            });
      const loaded = await Promise.all(missing.map((id) => flights.run(productKey(id), async () => (await batch).get(id))));
      missing.forEach((id, index) => {
        const product = loaded[index];
        if (product) found.set(id, product);
      });
      return found;
    },

    /** A ListProducts page by its request (filters, order, size, token), cached per list generation. */
    getListPage(requestKey: string, load: () => Promise<ListPage>): Promise<ListPage> {
      return flights.run(`${LIST_PREFIX}${requestKey}`, async () => {
        const changesAtStart = changes;
        let generation: string;
        try {
          generation = (await redis.get(LIST_GENERATION_KEY)) ?? "0";
        } catch (err) {
          failed("list", err);
          return load();
        }
        const key = `${LIST_PREFIX}${generation}:${requestKey}`;
        const cached = await read("list", key);
        if (cached !== null) {
          const stored = JSON.parse(cached) as { products: StoredProduct[]; nextPageToken: string };
          return { products: stored.products.map(fromStored), nextPageToken: stored.nextPageToken };
        }
        const page = await load();
        if (changes === changesAtStart) {
          await write([[key, JSON.stringify({ products: page.products.map(toStored), nextPageToken: page.nextPageToken })]], options.listTtlSeconds);
        }
        return page;
      });
    },

    /**
     * Call after the transaction that changed a product committed: the next read of the
     * product, and of any list page, goes to MySQL.
     */
    async invalidateProduct(id: string): Promise<void> {
      changes++;
      flights.forget(productKey(id));
      flights.forgetPrefix(LIST_PREFIX);
      try {
        await redis.multi().del(productKey(id)).incr(LIST_GENERATION_KEY).exec();
      } catch (err) {
        // Entries expire on their own; until then readers may see the old product.
        logger.warn({ err: (err as Error).message, product_id: id }, "cache invalidation failed; cached entries expire by TTL");
      }
    },
  };
}

export type CatalogCache = ReturnType<typeof createCatalogCache>;
