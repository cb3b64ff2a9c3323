import { z } from "zod";
import { authConfig, commonConfig, kafkaConfig, loadConfig, mysqlConfig, redisConfig, serviceDatabase, servicePort } from "@shopmesh/platform";

/** Environment of the catalog service. */
export const catalogConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...authConfig,
  CATALOG_PORT: servicePort("catalog"),
  CATALOG_DATABASE: serviceDatabase("catalog"),
  /** How long a cached product lives; invalidation on change makes updates visible sooner. */
  CATALOG_PRODUCT_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86400).default(300),
  /** How long a cached list page lives; any product change retires all list pages at once. */
  CATALOG_LIST_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
};

export type CatalogConfig = ReturnType<typeof loadCatalogConfig>;

export function loadCatalogConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(catalogConfigShape, env);
}
