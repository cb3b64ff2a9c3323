import { createJwtVerifier, type Logger, type RpcServer, type TokenVerifier, meshTlsFiles } from "@shopmesh/platform";
import { createRedis, waitForRedis } from "@shopmesh/platform/redis";
import { createCatalogClient } from "./clients/catalog.js";
import { createInventoryClient } from "./clients/inventory.js";
import type { CartConfig } from "./config.js";
import { createCartServer } from "./server.js";
import { createCartStore } from "./store/carts.js";

export interface CartApp {
  server: RpcServer;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

export interface CartOverrides {
  /** Token verifier; tests pass `createTestTokens().verifier` instead of identity's JWKS. */
  verifier?: TokenVerifier;
}

/** Wires the cart service from its configuration: Redis, catalog and inventory clients, server. */
export async function buildCart(config: CartConfig, logger: Logger, overrides: CartOverrides = {}): Promise<CartApp> {
  const redis = createRedis(config.REDIS_URL, logger, { name: "cart", keyPrefix: config.REDIS_KEY_PREFIX });
  await waitForRedis(redis);

  const downstream = {
    logger,
    defaultTimeoutMs: config.DOWNSTREAM_TIMEOUT_MS,
    breakerThreshold: config.BREAKER_THRESHOLD,
    breakerHalfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
  };
  const meshTls = meshTlsFiles(config);
  const catalog = createCatalogClient({ ...downstream, meshTls, address: config.CATALOG_ADDR });
  const inventory = createInventoryClient({ ...downstream, meshTls, address: config.INVENTORY_ADDR });

  const server = createCartServer({
    meshTls,
    redis,
    carts: createCartStore(redis, logger, { ttlSeconds: config.CART_TTL_SECONDS, maxLines: config.CART_MAX_LINES }),
    catalog,
    inventory,
    logger,
    verifier: overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) }),
  });
  return {
    server,
    closers: [
      { name: "catalog client", close: () => catalog.close() },
      { name: "inventory client", close: () => inventory.close() },
      { name: "redis", close: () => redis.quit() },
    ],
  };
}
