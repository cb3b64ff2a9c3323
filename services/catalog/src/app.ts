import { fileURLToPath } from "node:url";
import {
  createJwtVerifier,
  createRedis,
  openServiceDatabase,
  startEventPublishing,
  waitForRedis,
  type Logger,
  type RpcServer,
  type TokenVerifier,
} from "@shopmesh/platform";
import type { CatalogConfig } from "./config.js";
import { createCatalogServer } from "./server.js";
import { createCategoryStore } from "./store/categories.js";
import { createProductStore, type ProductStore } from "./store/products.js";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

export interface CatalogApp {
  server: RpcServer;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

export interface CatalogOverrides {
  /** Token verifier instead of identity's JWKS (tests use createTestTokens().verifier). */
  verifier?: TokenVerifier;
  /** Wraps the product store, e.g. to count queries in tests. */
  decorateProducts?: (store: ProductStore) => ProductStore;
}

/** Wires the catalog service from its configuration: database, Redis cache, Kafka relay, server. */
export async function buildCatalog(config: CatalogConfig, logger: Logger, overrides: CatalogOverrides = {}): Promise<CatalogApp> {
  const pool = await openServiceDatabase(config, { database: config.CATALOG_DATABASE, migrations: MIGRATIONS, logger });

  // The cache is optional at run time: start without it and let the client reconnect.
  const redis = createRedis(config.REDIS_URL, logger, { name: "catalog", keyPrefix: config.REDIS_KEY_PREFIX });
  await waitForRedis(redis, 2_000).catch(() => logger.warn("redis not reachable at start; serving from MySQL until it is"));

  const publishing = await startEventPublishing(config, { service: "catalog", pool, logger });
  const { relay } = publishing;

  const products = createProductStore(pool);
  const server = createCatalogServer({
    pool,
    redis,
    products: overrides.decorateProducts ? overrides.decorateProducts(products) : products,
    categories: createCategoryStore(pool),
    logger,
    verifier: overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) }),
    productCacheTtlSeconds: config.CATALOG_PRODUCT_CACHE_TTL_SECONDS,
    listCacheTtlSeconds: config.CATALOG_LIST_CACHE_TTL_SECONDS,
    onOutboxWrite: () => relay.nudge(),
    extraReadiness: [publishing.readiness],
  });
  return {
    server,
    closers: [
      { name: "event publishing", close: () => publishing.close() },
      // quit() needs a connection; an unreachable Redis is just dropped.
      { name: "redis", close: () => (redis.status === "ready" ? redis.quit() : redis.disconnect()) },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
