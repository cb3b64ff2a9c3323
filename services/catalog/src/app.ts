import { fileURLToPath } from "node:url";
import {
  createIdempotentProducer,
  createJwtVerifier,
  createKafka,
  createMysqlPool,
  createOutboxRelay,
  createRedis,
  migrateOutbox,
  runMigrations,
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
  const pool = await createMysqlPool({
    host: config.MYSQL_HOST,
    port: config.MYSQL_PORT,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.CATALOG_DATABASE,
    poolSize: config.MYSQL_POOL_SIZE,
  });
  await runMigrations(pool, MIGRATIONS, logger);
  await migrateOutbox(pool, logger);

  // The cache is optional at run time: start without it and let the client reconnect.
  const redis = createRedis(config.REDIS_URL, logger, { name: "catalog" });
  await waitForRedis(redis, 2_000).catch(() => logger.warn("redis not reachable at start; serving from MySQL until it is"));

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: "catalog", logger, topicPrefix: config.KAFKA_TOPIC_PREFIX });
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const relay = createOutboxRelay({ pool, producer, logger, source: "/shopmesh/catalog" });
  relay.start();

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
  });
  return {
    server,
    closers: [
      { name: "outbox relay", close: () => relay.stop() },
      { name: "kafka producer", close: () => producer.disconnect() },
      // quit() needs a connection; an unreachable Redis is just dropped.
      { name: "redis", close: () => (redis.status === "ready" ? redis.quit() : redis.disconnect()) },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
