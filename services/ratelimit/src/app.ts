import { readFile } from "node:fs/promises";
import { type Logger, type RpcServer, meshTlsFiles } from "@shopmesh/platform";
import { createRedis, waitForRedis } from "@shopmesh/platform/redis";
import type { RatelimitConfig } from "./config.js";
import { parseLimits, type Limits } from "./domain/limits.js";
import { createRatelimitServer } from "./server.js";
import { createTokenBuckets } from "./store/token-bucket.js";

export interface RatelimitApp {
  server: RpcServer;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

/** Reads and validates the limits file; a bad file stops the start with the file named. */
export async function loadLimits(path: string): Promise<Limits> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new Error(`RATELIMIT_LIMITS_FILE: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseLimits(json);
  } catch (err) {
    throw new Error(`RATELIMIT_LIMITS_FILE ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Wires the ratelimit service from its configuration: limits, Redis, server. */
export async function buildRatelimit(config: RatelimitConfig, logger: Logger): Promise<RatelimitApp> {
  const limits = await loadLimits(config.RATELIMIT_LIMITS_FILE);
  const redis = createRedis(config.REDIS_URL, logger, { name: "ratelimit", keyPrefix: config.REDIS_KEY_PREFIX });
  await waitForRedis(redis);
  logger.info({ classes: [...limits.values()].map((limit) => limit.description), failureMode: config.RATELIMIT_FAILURE_MODE }, "limits loaded");
  const server = createRatelimitServer({
    meshTls: meshTlsFiles(config),
    limits,
    buckets: createTokenBuckets(redis),
    failureMode: config.RATELIMIT_FAILURE_MODE,
    logger,
  });
  return { server, closers: [{ name: "redis", close: () => redis.quit() }] };
}
