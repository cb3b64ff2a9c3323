import { createHash } from "node:crypto";
import type { Logger } from "@shopmesh/platform";
import type { Redis } from "@shopmesh/platform/redis";

/**
 * Per-account failed-login counter in Redis (keys hold a hash of the email, not the email).
 * It complements the edge's per-IP rate limit against distributed guessing. When Redis is
 * away the throttle fails open: sign-in keeps working, the edge limit still applies.
 */
export function createLoginThrottle(redis: Redis, logger: Logger, options: { maxFailures: number; lockoutSeconds: number }) {
  const key = (email: string) => `identity:login-failures:${createHash("sha256").update(email).digest("hex")}`;
  return {
    async isLocked(email: string): Promise<boolean> {
      try {
        const count = Number((await redis.get(key(email))) ?? 0);
        return count >= options.maxFailures;
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "login throttle unavailable; allowing");
        return false;
      }
    },
    async recordFailure(email: string): Promise<void> {
      try {
        await redis.multi().incr(key(email)).expire(key(email), options.lockoutSeconds, "NX").exec();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "login throttle unavailable; failure not counted");
      }
    },
    async clear(email: string): Promise<void> {
      await redis.del(key(email)).catch(() => undefined);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
