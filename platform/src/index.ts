/**
 * The shared runtime every shopmesh service loads: configuration, errors, logging, metrics,
 * lifecycle, the RPC server and stubs, telemetry, the topic names. It loads no database or
 * broker client: a service with its own data imports `@shopmesh/platform/data` (MariaDB and
 * its events through Kafka), one with Redis `@shopmesh/platform/redis`.
 */
export * from "./config.js";
export * from "./errors.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./lifecycle.js";
export * from "./background-loop.js";
export * from "./rpc/auth.js";
export * from "./rpc/client.js";
export * from "./rpc/context.js";
export * from "./rpc/mesh-tls.js";
export * from "./rpc/page-token.js";
export * from "./rpc/policy.js";
export * from "./rpc/server.js";
export * from "./rpc/validation.js";
export * from "./kafka/topics.js";
export * from "./telemetry/spans.js";
export * from "./telemetry/schema.js";
