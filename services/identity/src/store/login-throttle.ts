import { createHash } from "node:crypto";
import type { Logger } from "@shopmesh/platform";
import type { Redis } from "@shopmesh/platform/redis";

export interface LoginThrottleOptions {
  /** Failures from one address to one account before each further attempt must wait. */
  maxFailures: number;
  /** How long failures are remembered, and the longest wait. */
  windowSeconds: number;
  /** The first wait; each further failure doubles it, up to `windowSeconds`. */
  firstDelaySeconds: number;
}

const digest = (value: string) => createHash("sha256").update(value).digest("hex").slice(0, 32);

/**
 * Failed sign-ins counted per (account, client address) in Redis: past `maxFailures` from one
 * address, attempts from there must wait, longer after each failure. A stranger therefore
 * slows only their own address down: the owner signing in from elsewhere is not locked out.
 * Account-wide failures (every address) are counted too, to tell the owner about a burst.
 * Keys hold hashes, never the email or address. When Redis is away the throttle fails open:
 * sign-in keeps working, and the edge's per-address limit still applies.
 */
export function createLoginThrottle(redis: Redis, logger: Logger, options: LoginThrottleOptions) {
  const perSource = (email: string, source: string) => `identity:login-failures:${digest(email)}:${digest(source)}`;
  const waitUntil = (email: string, source: string) => `${perSource(email, source)}:until`;
  const perAccount = (email: string) => `identity:login-failures:${digest(email)}`;
  const sources = (email: string) => `identity:login-failure-sources:${digest(email)}`;

  return {
    /** Seconds this address must still wait before trying this account again (0: it may try now). */
    async retryAfterSeconds(email: string, source: string): Promise<number> {
      try {
        const remainingMs = await redis.pttl(waitUntil(email, source));
        return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0;
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "login throttle unavailable; allowing");
        return 0;
      }
    },

    /** Counts a failure; returns the account-wide failures and addresses in the window. */
    async recordFailure(email: string, source: string): Promise<{ accountFailures: number; addresses: number }> {
      const window = options.windowSeconds;
      try {
        const results = await redis
          .multi()
          .incr(perSource(email, source))
          .expire(perSource(email, source), window, "NX")
          .incr(perAccount(email))
          .expire(perAccount(email), window, "NX")
          .sadd(sources(email), digest(source))
          .expire(sources(email), window, "NX")
          .scard(sources(email))
          .exec();
        const fromHere = Number(results?.[0]?.[1] ?? 0);
        if (fromHere >= options.maxFailures) {
          const delay = Math.min(window, options.firstDelaySeconds * 2 ** (fromHere - options.maxFailures));
          await redis.set(waitUntil(email, source), "1", "EX", delay);
        }
        return { accountFailures: Number(results?.[2]?.[1] ?? 0), addresses: Number(results?.[6]?.[1] ?? 0) };
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "login throttle unavailable; failure not counted");
        return { accountFailures: 0, addresses: 0 };
      }
    },

    /** A successful sign-in from `source` forgets that address's failures (others keep theirs). */
    async clear(email: string, source: string): Promise<void> {
      await redis.del(perSource(email, source), waitUntil(email, source)).catch(() => undefined);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
