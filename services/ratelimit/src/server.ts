import { RateLimitService } from "@shopmesh/gen/envoy/service/ratelimit/v3/rls_pb.js";
import { Counter, createRpcServer, createServiceMetrics, METRICS, registration, type Logger, type RpcServer, type MeshTlsFiles } from "@shopmesh/platform";
import type { Limits } from "./domain/limits.js";
import { createRatelimitService, type FailureMode } from "./handlers/ratelimit-service.js";
import type { TokenBuckets } from "./store/token-bucket.js";

export interface RatelimitServerDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  limits: Limits;
  buckets: TokenBuckets;
  failureMode: FailureMode;
  logger: Logger;
}

/**
 * The ratelimit service's routes: Envoy's RateLimitService. It has no policy option, so the
 * platform serves it as internal (gRPC only, never through the edge) - what Envoy speaks.
 */
export function createRatelimitServer(deps: RatelimitServerDeps): RpcServer {
  const metrics = createServiceMetrics("ratelimit");
  const { name, help, labelNames } = METRICS.ratelimitDecisions;
  const decisions = new Counter({ name, help, labelNames, registers: [metrics.registry] });
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "ratelimit",
    logger: deps.logger,
    metrics,
    services: [registration(RateLimitService, createRatelimitService({ ...deps, decisions }))],
    // No Redis check: with Redis away the service still answers, by its failure mode, and
    // Envoy should keep asking it rather than eject it.
    readiness: [],
  });
}
