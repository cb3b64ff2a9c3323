import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  RateLimitResponse_Code as Code,
  RateLimitResponse_DescriptorStatusSchema,
  RateLimitResponse_RateLimitSchema,
  RateLimitResponseSchema,
  type RateLimitService,
  type RateLimitResponse_DescriptorStatus,
} from "@shopmesh/gen/envoy/service/ratelimit/v3/rls_pb.js";
import type { Counter, Logger } from "@shopmesh/platform";
import { bucketKey, limitFor, msUntilReset, type Limits } from "../domain/limits.js";
import type { TokenBuckets } from "../store/token-bucket.js";

/** What the service answers when Redis cannot decide: let traffic through, or refuse it. */
export type FailureMode = "allow" | "deny";

export interface RatelimitDeps {
  limits: Limits;
  buckets: TokenBuckets;
  failureMode: FailureMode;
  logger: Logger;
  decisions: Counter<"class" | "decision">;
}

const duration = (ms: number) => create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });

/**
 * Envoy's ShouldRateLimit: every descriptor is one token bucket (class limit from limits.json);
 * the request is OVER_LIMIT when any of its buckets is empty.
 */
export function createRatelimitService(deps: RatelimitDeps): ServiceImpl<typeof RateLimitService> {
  return {
    async shouldRateLimit(request) {
      const hits = request.hitsAddend || 1;
      const statuses: RateLimitResponse_DescriptorStatus[] = [];
      let overall = Code.OK;
      for (const descriptor of request.descriptors) {
        const entries = descriptor.entries.map(({ key, value }) => ({ key, value }));
        const limit = limitFor(deps.limits, entries);
        let result;
        try {
          result = await deps.buckets.take(bucketKey(request.domain, entries), limit, hits);
        } catch (err) {
          // Redis is away: the configured failure mode decides, for the whole request.
          const deny = deps.failureMode === "deny";
          deps.decisions.inc({ class: limit.className, decision: deny ? "error_denied" : "error_allowed" });
          deps.logger.warn({ err: (err as Error).message, class: limit.className, failureMode: deps.failureMode }, "rate limit store unavailable");
          return create(RateLimitResponseSchema, { overallCode: deny ? Code.OVER_LIMIT : Code.OK });
        }
        deps.decisions.inc({ class: limit.className, decision: result.allowed ? "ok" : "over_limit" });
        if (!result.allowed) {
          overall = Code.OVER_LIMIT;
          // Descriptor entries are user ids and client addresses, never tokens.
          deps.logger.info({ domain: request.domain, descriptor: entries, limit: limit.description }, "rate limited");
        }
        statuses.push(
          create(RateLimitResponse_DescriptorStatusSchema, {
            code: result.allowed ? Code.OK : Code.OVER_LIMIT,
            currentLimit: create(RateLimitResponse_RateLimitSchema, { name: limit.description, requestsPerUnit: limit.requestsPerUnit, unit: limit.unit }),
            limitRemaining: result.remaining,
            durationUntilReset: duration(msUntilReset(result)),
          }),
        );
      }
      return create(RateLimitResponseSchema, { overallCode: overall, statuses });
    },
  };
}
