import { fileURLToPath } from "node:url";
import {
  consumerGroup,
  createJwtVerifier,
  TOPICS,
  type Logger,
  type ReadinessCheck,
  type RpcServer,
  type TokenVerifier,
  meshTlsFiles,
} from "@shopmesh/platform";
import { createEventConsumer, openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import { createRedis, waitForRedis } from "@shopmesh/platform/redis";
import type { CatalogConfig } from "./config.js";
import { stockLevelHandlers } from "./events/stock-levels.js";
import { onceReady, searchIndexerHandlers } from "./search/indexer.js";
import { createProductIndex, createSearchClient } from "./search/product-index.js";
import { createProductSearch } from "./search/product-search.js";
import { createCatalogServer } from "./server.js";
import { createCategoryStore } from "./store/categories.js";
import { createProductStore, type ProductStore } from "./store/products.js";
import { createStockStore } from "./store/stock.js";

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
  const pool = await openServiceDatabase(config, { database: config.CATALOG_DATABASE, migrations: MIGRATIONS, logger, consumesEvents: true });

  // The cache is optional at run time: start without it and let the client reconnect.
  const redis = createRedis(config.REDIS_URL, logger, { name: "catalog", keyPrefix: config.REDIS_KEY_PREFIX });
  await waitForRedis(redis, 2_000).catch(() => logger.warn("redis not reachable at start; serving from MySQL until it is"));

  const publishing = await startEventPublishing(config, { service: "catalog", pool, logger });
  const { relay } = publishing;

  const products = createProductStore(pool);
  const search = config.SEARCH_ENGINE === "opensearch" ? await startSearchIndex(config, logger) : undefined;
  const events = createEventConsumer({
    kafka: publishing.kafka,
    pool,
    logger,
    producer: publishing.producer,
    // Its own product events feed the search index; inventory's stock events, the "in stock" filter.
    // One group per topic set: members of a group must all subscribe to the same topics, or
    // partitions land on a member without their handlers (a catalog without the engine, say).
    groupId: consumerGroup(search ? "catalog-search" : "catalog", config),
    topics: search ? [TOPICS.catalog, TOPICS.inventory] : [TOPICS.inventory],
    startAt: config.KAFKA_CONSUMER_START,
    handlers: [
      ...stockLevelHandlers(createStockStore(pool), search && { index: search.index, ready: search.ready }),
      ...(search ? searchIndexerHandlers(search.index, logger, { ensureIndex: search.ready }) : []),
    ],
  });
  await events.start();
  const server = createCatalogServer({
    meshTls: meshTlsFiles(config),
    pool,
    redis,
    products: overrides.decorateProducts ? overrides.decorateProducts(products) : products,
    categories: createCategoryStore(pool),
    logger,
    verifier: overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) }),
    productCacheTtlSeconds: config.CATALOG_PRODUCT_CACHE_TTL_SECONDS,
    listCacheTtlSeconds: config.CATALOG_LIST_CACHE_TTL_SECONDS,
    onOutboxWrite: () => relay.nudge(),
    search: search?.search,
    searchTimeoutMs: config.SEARCH_TIMEOUT_MS,
    extraReadiness: [publishing.readiness, events.readiness, ...(search ? [search.readiness] : [])],
  });
  return {
    server,
    closers: [
      { name: "event consumer", close: () => events.stop() },
      ...(search ? [{ name: "search engine client", close: () => search.close() }] : []),
      { name: "event publishing", close: () => publishing.close() },
      // quit() needs a connection; an unreachable Redis is just dropped.
      { name: "redis", close: () => (redis.status === "ready" ? redis.quit() : redis.disconnect()) },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}

/**
 * The search engine: the index (created when missing) and the queries. An engine that is
 * away at start is not fatal: searches fall back to the database, and the event consumer
 * creates the index before its first write once the engine is back.
 */
async function startSearchIndex(config: CatalogConfig, logger: Logger) {
  const client = createSearchClient(config.OPENSEARCH_URL);
  const index = createProductIndex(client, config.SEARCH_INDEX_PREFIX);
  await index.ensure().catch((err: unknown) => logger.warn({ err }, "search engine unreachable at start: searching the database until it is back"));
  return {
    index,
    ready: onceReady(() => index.ensure()),
    search: createProductSearch(index),
    readiness: { name: "opensearch", critical: false, check: () => index.ping() } satisfies ReadinessCheck,
    close: () => client.close(),
  };
}
