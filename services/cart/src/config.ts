import { z } from "zod";
import { authConfig, commonConfig, loadConfig, redisConfig, serviceAddress, servicePort } from "@shopmesh/platform";

/** Environment of the cart service. */
export const cartConfigShape = {
  ...commonConfig,
  ...redisConfig,
  ...authConfig,
  CART_PORT: servicePort("cart"),
  /** `host:port` (or `dns:///name:port`) of the catalog and inventory services. */
  CATALOG_ADDR: serviceAddress("catalog"),
  INVENTORY_ADDR: serviceAddress("inventory"),
  /** A cart untouched for this long disappears; every write starts the period again. */
  CART_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(365 * 86400)
    .default(30 * 86400),
  /** Distinct products per cart (the contract promises at least 100). */
  CART_MAX_LINES: z.coerce.number().int().min(1).max(100).default(100),
  /** Budget of one call to catalog or inventory when the inbound request allows more. */
  DOWNSTREAM_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1_000),
  /** Consecutive transient failures that open a downstream's circuit breaker. */
  BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1_000).default(5),
  /** How long an open breaker fails calls fast before it lets one trial call through. */
  BREAKER_HALF_OPEN_AFTER_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
};

export type CartConfig = ReturnType<typeof loadCartConfig>;

export function loadCartConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(cartConfigShape, env);
}
