import * as grpc from "@grpc/grpc-js";
import type { DescMethod, DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from "@opentelemetry/semantic-conventions";
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
} from "cockatiel";
import { DownstreamError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ServiceMetrics } from "../metrics.js";
import { inboundScope } from "./context.js";
import { grpcMethodDefinition, STATUS_DETAILS } from "./grpc-transport.js";
import { meshChannelCredentials, meshNameOf, type MeshTlsFiles } from "./mesh-tls.js";
import { methodPolicy } from "./policy.js";
import { grpcStatusName, rpcSpanName } from "../telemetry/schema.js";

export interface CallOptions {
  /** Per-call budget; the effective deadline is the sooner of this and the inbound request's. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Extra metadata. `authorization` is forwarded from the inbound request by default. */
  headers?: Record<string, string>;
}

/** A typed stub: one async function per unary method, an async iterable per streaming one. */
export type GrpcClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
      : never;
} & { close(): void };

export interface GrpcClientOptions {
  /** `host:port`, or `dns:///name:port` for round_robin over every address a (headless) name has. */
  address: string;
  /**
   * Mutual TLS: this side's certificate files. The server must prove the mesh identity of the
   * service the contract belongs to (`meshNameOf`), whatever address it is reached at; `server`
   * names another one.
   */
  meshTls?: (MeshTlsFiles & { server?: string }) | undefined;
  logger: Logger;
  metrics?: ServiceMetrics;
  /** Deadline when neither the call nor the inbound request sets one (default 2 s). */
  defaultTimeoutMs?: number;
  /** Consecutive failures that open the breaker (default 5) and how long it stays open (default 5 s). */
  breakerThreshold?: number;
  breakerHalfOpenAfterMs?: number;
  /** Retries for methods the contract marks idempotent (default 2). */
  maxRetries?: number;
  /** Concurrent calls allowed to this downstream before new ones are rejected fast (default 200). */
  maxConcurrent?: number;
}

/** Faults that say the downstream is unhealthy; client mistakes (NOT_FOUND, ...) do not trip the breaker. */
const TRANSIENT = new Set<Code>([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Internal, Code.Unknown]);
const isTransient = (err: Error) => err instanceof ConnectError && TRANSIENT.has(err.code);

const tracer = trace.getTracer("shopmesh.rpc");
const metadataSetter = { set: (carrier: grpc.Metadata, key: string, value: string) => carrier.set(key, value) };

/**
 * `server.address` and `server.port` of a stub's address: `host:port`, `[v6]:port`, or a gRPC
 * target such as `dns:///name:port`.
 */
function serverAttributes(address: string): Attributes {
  const hostPort = address.replace(/^(?:dns|ipv4|ipv6):(?:\/\/[^/]*\/)?/i, "");
  const match = /^(?:\[([^\]]+)\]|([^:,]+))(?::(\d+))?$/.exec(hostPort);
  const host = match?.[1] ?? match?.[2];
  if (!host) return {};
  return { [ATTR_SERVER_ADDRESS]: host, ...(match?.[3] ? { [ATTR_SERVER_PORT]: Number(match[3]) } : {}) };
}

/** A grpc-js error as the ConnectError a Connect client would have seen, details included. */
function toConnectError(err: grpc.ServiceError, target: string): DownstreamError {
  const code = (err.code as number as Code) ?? Code.Unknown;
  const message = err.details || err.message;
  const [details] = err.metadata?.get(STATUS_DETAILS) ?? [];
  // grpc-status-details-bin is the google.rpc.Status the Connect path would carry: decode it with connect's own reader.
  const decoded = Buffer.isBuffer(details)
    ? findTrailerError(new Headers({ "grpc-status": String(code), "grpc-message": encodeURIComponent(message), [STATUS_DETAILS]: details.toString("base64") }))
    : undefined;
  return new DownstreamError(target, decoded ?? new ConnectError(message, code));
}

/**
 * A downstream's CANCELLED when this side cancelled nothing means the call was dropped under
 * it (its process died, its stream was reset): to our caller that is UNAVAILABLE, which it may
 * retry, not a cancellation it never asked for. Other codes pass as they are.
 */
function downstreamError(err: grpc.ServiceError, target: string, cancelledHere: boolean): ConnectError {
  if (err.code === grpc.status.CANCELLED && !cancelledHere)
    return new DownstreamError(target, new ConnectError(`${target} dropped the call`, Code.Unavailable));
  return toConnectError(err, target);
}

/**
 * Builds a typed grpc-js client for a downstream service from its generated descriptor.
 * Every call has a deadline (propagated from the request being served), carries the trace
 * context and the caller's token, and goes through a per-downstream bulkhead and circuit
 * breaker; idempotent methods (per the contract's policy) are retried with backoff.
 */
export function createGrpcClient<S extends DescService>(service: S, options: GrpcClientOptions): GrpcClient<S> {
  const channelOptions: grpc.ChannelOptions = {
    "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    "grpc.enable_retries": 0,
  };
  const meshServer = options.meshTls ? (options.meshTls.server ?? meshNameOf(service)) : undefined;
  const credentials = options.meshTls && meshServer ? meshChannelCredentials(options.meshTls, meshServer) : grpc.credentials.createInsecure();
  // The server's mesh name as TLS server name (SNI): an IP address may not be one (RFC 6066).
  if (meshServer) channelOptions["grpc.ssl_target_name_override"] = meshServer;
  const client = new grpc.Client(options.address, credentials, channelOptions);
  const target = service.typeName;
  const server = serverAttributes(options.address);
  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: options.breakerHalfOpenAfterMs ?? 5_000,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
  });
  breaker.onStateChange((state) => options.logger.warn({ downstream: target, state }, "circuit breaker state changed"));
  const limiter = bulkhead(options.maxConcurrent ?? 200, 0);
  const retryIdempotent = retry(
    handleWhen((err) => err instanceof ConnectError && err.code === Code.Unavailable),
    {
      maxAttempts: options.maxRetries ?? 2,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
    },
  );
  const guarded: IPolicy = wrap(limiter, breaker);
  const guardedWithRetry: IPolicy = wrap(retryIdempotent, limiter, breaker);

  function deadlineFor(method: DescMethod, callOptions: CallOptions | undefined): number {
    const scope = inboundScope.getStore();
    const budget = callOptions?.timeoutMs ?? (methodPolicy(method).timeoutMs || options.defaultTimeoutMs || 2_000);
    const own = Date.now() + budget;
    return scope?.deadline !== undefined ? Math.min(own, scope.deadline) : own;
  }

  function metadataFor(callOptions: CallOptions | undefined): grpc.Metadata {
    const metadata = new grpc.Metadata();
    const authorization = inboundScope.getStore()?.authorization;
    if (authorization) metadata.set("authorization", authorization);
    for (const [key, value] of Object.entries(callOptions?.headers ?? {})) metadata.set(key, value);
    propagation.inject(context.active(), metadata, metadataSetter);
    return metadata;
  }

  function translate(err: unknown): never {
    if (err instanceof BrokenCircuitError) throw new DownstreamError(target, new ConnectError(`${target} unavailable (circuit open)`, Code.Unavailable));
    if (err instanceof BulkheadRejectedError) throw new DownstreamError(target, new ConnectError(`${target} overloaded`, Code.Unavailable));
    throw err;
  }

  function unary(method: DescMethod) {
    const definition = grpcMethodDefinition(method);
    const policy = methodPolicy(method).idempotent ? guardedWithRetry : guarded;
    return async (request: unknown, callOptions?: CallOptions) => {
      const started = performance.now();
      const name = rpcSpanName(target, method.name);
      const span = tracer.startSpan(name, {
        kind: SpanKind.CLIENT,
        attributes: { [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC, [ATTR_RPC_METHOD]: name, ...server },
      });
      let code = "OK";
      // One deadline for the whole call: retries share the caller's budget rather than each getting a new one.
      const deadline = deadlineFor(method, callOptions);
      try {
        return await context.with(trace.setSpan(context.active(), span), () =>
          policy.execute(({ signal }) => {
            return new Promise((resolve, reject) => {
              const call = client.makeUnaryRequest(
                definition.path,
                definition.requestSerialize,
                definition.responseDeserialize,
                request,
                metadataFor(callOptions),
                { deadline },
                (err, response) => {
                  // cockatiel hands every execution the same never-aborted signal: detach or each call leaks.
                  signal.removeEventListener("abort", cancel);
                  callOptions?.signal?.removeEventListener("abort", cancel);
                  if (err) reject(downstreamError(err, target, cancelledHere));
                  else resolve(response);
                },
              );
              let cancelledHere = false;
              const cancel = () => {
                cancelledHere = true;
                call.cancel();
              };
              signal.addEventListener("abort", cancel, { once: true });
              callOptions?.signal?.addEventListener("abort", cancel, { once: true });
            });
          }),
        );
      } catch (err) {
        code = err instanceof ConnectError ? Code[err.code] : "UNKNOWN";
        span.setStatus({ code: SpanStatusCode.ERROR });
        return translate(err);
      } finally {
        const status = grpcStatusName(code === "OK" ? 0 : (Code[code as keyof typeof Code] ?? Code.Unknown));
        span.setAttribute(ATTR_RPC_STATUS_CODE, status);
        if (code !== "OK") span.setAttribute(ATTR_ERROR_TYPE, status);
        span.end();
        options.metrics?.clientDuration.observe({ target, method: method.name, code }, (performance.now() - started) / 1000);
      }
    };
  }

  function serverStream(method: DescMethod) {
    const definition = grpcMethodDefinition(method);
    return (request: unknown, callOptions?: CallOptions): AsyncIterable<unknown> => ({
      async *[Symbol.asyncIterator]() {
        const metadata = metadataFor(callOptions);
        const deadline = callOptions?.timeoutMs !== undefined ? Date.now() + callOptions.timeoutMs : Infinity;
        const call = client.makeServerStreamRequest(definition.path, definition.requestSerialize, definition.responseDeserialize, request, metadata, {
          deadline,
        });
        callOptions?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        try {
          for await (const message of call) yield message;
        } catch (err) {
          throw toConnectError(err as grpc.ServiceError, target);
        } finally {
          call.cancel();
        }
      },
    });
  }

  const stub: Record<string, unknown> = { close: () => client.close() };
  for (const method of service.methods) {
    if (method.methodKind === "unary") stub[method.localName] = unary(method);
    else if (method.methodKind === "server_streaming") stub[method.localName] = serverStream(method);
  }
  return stub as GrpcClient<S>;
}
