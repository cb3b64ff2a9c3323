import type { Redis } from "@shopmesh/platform/redis";
import type { BucketResult, Limit } from "../domain/limits.js";

/**
 * One decision, atomically, on Redis' clock: refill by elapsed time, take `hits` tokens if
 * there are enough, store, and expire the key once it would be full anyway. Using Redis TIME
 * (not the caller's clock) lets any number of replicas share a bucket. Mirrors `takeTokens`
 * in domain/limits.ts.
 * KEYS[1] bucket; ARGV capacity, period ms, hits. Returns {allowed, remaining, ms until full, ms until available}.
 */
const TAKE_TOKENS_LUA = `
local capacity = tonumber(ARGV[1])
local period_ms = tonumber(ARGV[2])
local hits = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
local rate = capacity / period_ms
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
end
local allowed = 0
if tokens >= hits then
  tokens = tokens - hits
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
local until_full = math.ceil((capacity - tokens) / rate)
redis.call('PEXPIRE', KEYS[1], until_full + 1000)
local until_available = 0
if allowed == 0 then
  until_available = math.ceil((hits - tokens) / rate)
end
return { allowed, math.floor(tokens), until_full, until_available }
`;

type TakeTokens = (key: string, capacity: number, periodMs: number, hits: number) => Promise<[number, number, number, number]>;

/** Token buckets in Redis; one EVALSHA per descriptor (ioredis falls back to EVAL once per script load). */
export function createTokenBuckets(redis: Redis) {
  if (!("shopmeshTakeTokens" in redis)) redis.defineCommand("shopmeshTakeTokens", { numberOfKeys: 1, lua: TAKE_TOKENS_LUA });
  const take = (redis as unknown as { shopmeshTakeTokens: TakeTokens }).shopmeshTakeTokens.bind(redis);
  return {
    async take(key: string, limit: Limit, hits: number): Promise<BucketResult> {
      const [allowed, remaining, msUntilFull, msUntilAvailable] = await take(key, limit.capacity, limit.periodMs, hits);
      return { allowed: allowed === 1, remaining, msUntilFull, msUntilAvailable };
    },
  };
}

export type TokenBuckets = ReturnType<typeof createTokenBuckets>;
