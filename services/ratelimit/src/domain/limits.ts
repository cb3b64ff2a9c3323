import { createHash } from "node:crypto";
import { z } from "zod";
import { RateLimitResponse_RateLimit_Unit as Unit } from "@shopmesh/gen/envoy/service/ratelimit/v3/rls_pb.js";

const UNIT_SECONDS = { second: 1, minute: 60, hour: 3600, day: 86400 } as const;
const UNIT_ENUM = { second: Unit.SECOND, minute: Unit.MINUTE, hour: Unit.HOUR, day: Unit.DAY } as const;

const limitSchema = z
  .object({
    /** Bucket size: this many requests may arrive at once, and this many come back per period. */
    requests: z.number().int().min(1).max(1_000_000),
    unit: z.enum(["second", "minute", "hour", "day"]),
    /** The period is `unitMultiplier` units (e.g. 3 requests per 2 seconds); tests use it. */
    unitMultiplier: z.number().int().min(1).max(1000).default(1),
  })
  .strict();

/** The limits file (`limits.json`): one limit per rate-limit class named in the contracts. */
export const limitsFileSchema = z
  .object({
    classes: z
      .record(z.string().regex(/^[a-z][a-z0-9_-]*$/), limitSchema)
      .refine((classes) => "default" in classes, { message: 'a "default" class is required' }),
  })
  .strict();

export type LimitsFile = z.infer<typeof limitsFileSchema>;

/** A resolved limit: a token bucket of `capacity` that refills completely every `periodMs`. */
export interface Limit {
  className: string;
  capacity: number;
  periodMs: number;
  /** As Envoy's RateLimit expresses it (its unit cannot carry a multiplier). */
  requestsPerUnit: number;
  unit: Unit;
  /** Human-readable, e.g. "login: 5 per 1 minute". */
  description: string;
}

export type Limits = ReadonlyMap<string, Limit>;

/** Validates a parsed limits file; throws with every problem listed. */
export function parseLimits(input: unknown): Limits {
  const parsed = limitsFileSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`invalid limits: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`);
  }
  const limits = new Map<string, Limit>();
  for (const [className, limit] of Object.entries(parsed.data.classes)) {
    limits.set(className, {
      className,
      capacity: limit.requests,
      periodMs: UNIT_SECONDS[limit.unit] * limit.unitMultiplier * 1000,
      requestsPerUnit: limit.requests,
      unit: UNIT_ENUM[limit.unit],
      description: `${className}: ${limit.requests} per ${limit.unitMultiplier} ${limit.unit}`,
    });
  }
  return limits;
}

export interface DescriptorEntry {
  key: string;
  value: string;
}

/** The descriptor's `class` entry picks the limit; an unknown or missing class gets "default". */
export function limitFor(limits: Limits, entries: readonly DescriptorEntry[]): Limit {
  const className = entries.find((entry) => entry.key === "class")?.value;
  return (className !== undefined ? limits.get(className) : undefined) ?? limits.get("default")!;
}

/**
 * The Redis key of one bucket: a hash of the domain and every entry, so replicas agree on it,
 * keys have a fixed size, and user ids or addresses are not readable in Redis.
 */
export function bucketKey(domain: string, entries: readonly DescriptorEntry[]): string {
  const hash = createHash("sha256").update(domain);
  for (const entry of entries) hash.update("\0").update(entry.key).update("\0").update(entry.value);
  // The braces make it one Redis Cluster hash slot per bucket.
  return `shopmesh:ratelimit:{${hash.digest("hex").slice(0, 40)}}`;
}

/** What the bucket script answers for one descriptor. */
export interface BucketResult {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Until the bucket is full again. */
  msUntilFull: number;
  /** Until enough tokens for this request are back (0 when allowed). */
  msUntilAvailable: number;
}

/**
 * When the quota "resets", as Envoy reports it in x-ratelimit-reset: for a refused request the
 * time until it could pass (a useful Retry-After), otherwise the time until the bucket is full.
 */
export function msUntilReset(result: BucketResult): number {
  return result.allowed ? result.msUntilFull : result.msUntilAvailable;
}

/** Reference model of the Lua bucket (store/token-bucket.ts): same arithmetic, for unit tests. */
export function takeTokens(
  state: { tokens: number; atMs: number } | undefined,
  nowMs: number,
  limit: Pick<Limit, "capacity" | "periodMs">,
  hits: number,
): { state: { tokens: number; atMs: number }; result: BucketResult } {
  const rate = limit.capacity / limit.periodMs;
  let tokens = state ? state.tokens : limit.capacity;
  const atMs = state ? state.atMs : nowMs;
  if (nowMs > atMs) tokens = Math.min(limit.capacity, tokens + (nowMs - atMs) * rate);
  const allowed = tokens >= hits;
  if (allowed) tokens -= hits;
  return {
    state: { tokens, atMs: Math.max(nowMs, atMs) },
    result: {
      allowed,
      remaining: Math.floor(tokens),
      msUntilFull: Math.ceil((limit.capacity - tokens) / rate),
      msUntilAvailable: allowed ? 0 : Math.ceil((hits - tokens) / rate),
    },
  };
}
