import { z } from "zod";
import {
  authConfig,
  commonConfig,
  kafkaConfig,
  loadConfig,
  mysqlConfig,
  opensearchConfig,
  redisConfig,
  serviceDatabase,
  servicePort,
} from "@shopmesh/platform";

/** Environment of the catalog service. */
export const catalogConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...opensearchConfig,
  ...authConfig,
  CATALOG_PORT: servicePort("catalog"),
  CATALOG_DATABASE: serviceDatabase("catalog"),
  /** How long a cached product lives; invalidation on change makes updates visible sooner. */
  CATALOG_PRODUCT_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86400).default(300),
  /** How long a cached list page lives; any product change retires all list pages at once. */
  CATALOG_LIST_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** "opensearch": search, suggestions and the indexer use the engine (the database is the fallback); "database": FULLTEXT only. */
  SEARCH_ENGINE: z.enum(["opensearch", "database"]).default("opensearch"),
  /** How long a search waits for the engine (at most half the caller's deadline) before the database answers. */
  SEARCH_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(800),
};

export type CatalogConfig = ReturnType<typeof loadCatalogConfig>;

export function loadCatalogConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(catalogConfigShape, env);
}
