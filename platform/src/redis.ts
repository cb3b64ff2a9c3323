import { Redis } from "ioredis";
import type { Logger } from "./logger.js";

export { Redis };

/**
 * Redis client that fails fast instead of queueing forever when Redis is away, so callers
 * can fall back (a cache miss) or answer UNAVAILABLE; it keeps reconnecting in the background.
 */
export function createRedis(url: string, logger: Logger, options: { name?: string; keyPrefix?: string } = {}): Redis {
  const redis = new Redis(url, {
    connectionName: options.name,
    // REDIS_KEY_PREFIX: every key (and Lua KEYS[]) under a namespace; empty in production.
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let reported = false;
  redis.on("error", (err: Error) => {
    if (!reported) logger.warn({ err: err.message }, "redis connection error");
    reported = true;
  });
  redis.on("ready", () => {
    if (reported) logger.info("redis connection restored");
    reported = false;
  });
  return redis;
}

/** Waits until the client is connected (at start-up), bounded. */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis not ready after ${timeoutMs} ms`)), timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function pingRedis(redis: Redis): Promise<void> {
  await redis.ping();
}
