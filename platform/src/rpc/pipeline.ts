import type { DescMethod, DescService, MessageShape } from "@bufbuild/protobuf";
import { Code, type ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE, ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM_NAME_VALUE_GRPC } from "@opentelemetry/semantic-conventions";
import { RPC_SYSTEM_NAME_VALUE_CONNECTRPC } from "@opentelemetry/semantic-conventions/incubating";
import type { Logger } from "../logger.js";
import { toConnectError } from "../errors.js";
import type { ServiceMetrics } from "../metrics.js";
import { authorize, type TokenVerifier } from "./auth.js";
import { callerKey, inboundScope, peerIdentityKey, transportKey } from "./context.js";
import { Auth, methodPolicy } from "./policy.js";
import { ATTR_SHOPMESH_PROTOCOL, ATTR_SHOPMESH_SERVICE, grpcStatusName, rpcSpanName } from "../telemetry/schema.js";
import type { RequestValidator } from "./validation.js";

/**
 * Every RPC, on either transport, passes the same steps in this order:
 *   1. tracing   - continue the caller's trace (W3C traceparent), one SERVER span per call
 *   2. scope     - remember deadline and token for outgoing calls made while serving it
 *   3. validate  - protovalidate rules from the contract; INVALID_ARGUMENT with violations
 *   4. authorize - the method's policy option (public / user+roles / internal)
 *   5. handler   - the service's implementation
 *   6. errors    - DomainError -> its code; anything unexpected -> INTERNAL, cause logged
 *   7. metrics   - duration by method and code; access log line at debug
 */
export interface PipelineDeps {
  serviceName: string;
  logger: Logger;
  validator: RequestValidator;
  verifier: TokenVerifier | undefined;
  metrics: ServiceMetrics;
  /** Counts calls in flight so shutdown can wait for them. */
  inFlight: { enter(): void; leave(): void };
  /** Internal methods need a caller's mesh identity (the server runs mutual TLS). */
  requireMeshIdentity?: boolean;
}

const tracer = trace.getTracer("shopmesh.rpc");

const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};

type AnyImpl = (request: unknown, ctx: HandlerContext) => unknown;

/** Wraps every method of `impl` in the pipeline; the result is served by both transports. */
export function wrapServiceImpl<S extends DescService>(service: S, impl: ServiceImpl<S>, deps: PipelineDeps): ServiceImpl<S> {
  const wrapped: Record<string, AnyImpl> = {};
  const implByName = impl as unknown as Record<string, AnyImpl | undefined>;
  for (const method of service.methods) {
    const handler = implByName[method.localName];
    if (!handler) throw new Error(`${service.typeName} has no implementation for ${method.name}`);
    switch (method.methodKind) {
      case "unary":
        wrapped[method.localName] = (request, ctx) => runUnary(method, handler, request as MessageShape<typeof method.input>, ctx, deps);
        break;
      case "server_streaming":
        wrapped[method.localName] = (request, ctx) => runServerStream(method, handler, request as MessageShape<typeof method.input>, ctx, deps);
        break;
      default:
        throw new Error(`${method.methodKind} methods are not supported (${service.typeName}/${method.name})`);
    }
  }
  return wrapped as unknown as ServiceImpl<S>;
}

function startServerSpan(method: DescMethod, ctx: HandlerContext, deps: PipelineDeps): Span {
  const parent = propagation.extract(context.active(), ctx.requestHeader, headerGetter);
  const transport = ctx.values.get(transportKey);
  deps.metrics.rpcInFlight.inc({ service: method.parent.typeName, transport });
  const name = rpcSpanName(method.parent.typeName, method.name);
  return tracer.startSpan(
    name,
    {
      kind: SpanKind.SERVER,
      attributes: {
        // gRPC-Web is gRPC framed for browsers; only the Connect protocol is connectrpc.
        [ATTR_RPC_SYSTEM_NAME]: ctx.protocolName === "connect" ? RPC_SYSTEM_NAME_VALUE_CONNECTRPC : RPC_SYSTEM_NAME_VALUE_GRPC,
        [ATTR_RPC_METHOD]: name,
        [ATTR_SHOPMESH_SERVICE]: deps.serviceName,
        [ATTR_SHOPMESH_PROTOCOL]: ctx.protocolName,
      },
    },
    parent,
  );
}

/** Who, then what: a caller who may not call the RPC learns nothing about its fields. */
async function prelude(method: DescMethod, request: MessageShape<DescMethod["input"]>, ctx: HandlerContext, deps: PipelineDeps): Promise<void> {
  const policy = methodPolicy(method);
  const meshChecked = policy.auth === Auth.INTERNAL && (deps.requireMeshIdentity ?? false);
  const caller = await authorize(policy, ctx.requestHeader.get("authorization"), ctx.values.get(transportKey), deps.verifier, {
    identity: meshChecked ? ctx.values.get(peerIdentityKey)() : undefined,
    required: meshChecked,
  });
  ctx.values.set(callerKey, caller);
  deps.validator.validate(method.input, request);
}

function scopeOf(ctx: HandlerContext) {
  const timeout = ctx.timeoutMs();
  return {
    deadline: timeout === undefined ? undefined : Date.now() + timeout,
    authorization: ctx.requestHeader.get("authorization") ?? undefined,
  };
}

function finish(method: DescMethod, ctx: HandlerContext, deps: PipelineDeps, span: Span, started: number, err: ConnectError | undefined): void {
  const code = err ? Code[err.code] : "OK";
  const status = grpcStatusName(err ? err.code : 0);
  span.setAttribute(ATTR_RPC_STATUS_CODE, status);
  if (err) span.setAttribute(ATTR_ERROR_TYPE, status);
  if (err && isServerFault(err.code)) span.setStatus({ code: SpanStatusCode.ERROR, message: err.rawMessage });
  span.end();
  const seconds = (performance.now() - started) / 1000;
  const transport = ctx.values.get(transportKey);
  deps.metrics.rpcDuration.observe({ service: method.parent.typeName, method: method.name, code, transport }, seconds);
  deps.metrics.rpcInFlight.dec({ service: method.parent.typeName, transport });
  // Written after the span ended (outside its context), so the ids are given explicitly.
  const { traceId, spanId } = span.spanContext();
  deps.logger.debug(
    { rpc: `${method.parent.typeName}/${method.name}`, code, ms: Math.round(seconds * 1000), transport, trace_id: traceId, span_id: spanId },
    "rpc",
  );
}

/** Codes that mean the server failed, as opposed to the caller asking for something wrong. */
function isServerFault(code: Code): boolean {
  return (
    code === Code.Internal ||
    code === Code.Unknown ||
    code === Code.DataLoss ||
    code === Code.Unavailable ||
    code === Code.DeadlineExceeded ||
    code === Code.Unimplemented
  );
}

function mapError(err: unknown, method: DescMethod, deps: PipelineDeps): ConnectError {
  return toConnectError(err, (cause) => deps.logger.error({ err: cause, rpc: `${method.parent.typeName}/${method.name}` }, "unexpected error"));
}

async function runUnary(
  method: DescMethod,
  handler: AnyImpl,
  request: MessageShape<DescMethod["input"]>,
  ctx: HandlerContext,
  deps: PipelineDeps,
): Promise<unknown> {
  const span = startServerSpan(method, ctx, deps);
  const started = performance.now();
  deps.inFlight.enter();
  let failure: ConnectError | undefined;
  try {
    return await context.with(trace.setSpan(context.active(), span), () =>
      inboundScope.run(scopeOf(ctx), async () => {
        await prelude(method, request, ctx, deps);
        return await handler(request, ctx);
      }),
    );
  } catch (err) {
    failure = mapError(err, method, deps);
    throw failure;
  } finally {
    deps.inFlight.leave();
    finish(method, ctx, deps, span, started, failure);
  }
}

async function* runServerStream(
  method: DescMethod,
  handler: AnyImpl,
  request: MessageShape<DescMethod["input"]>,
  ctx: HandlerContext,
  deps: PipelineDeps,
): AsyncGenerator<unknown> {
  const span = startServerSpan(method, ctx, deps);
  const active = trace.setSpan(context.active(), span);
  const scope = scopeOf(ctx);
  const started = performance.now();
  deps.inFlight.enter();
  let failure: ConnectError | undefined;
  let iterator: AsyncIterator<unknown> | undefined;
  try {
    await context.with(active, () => inboundScope.run(scope, () => prelude(method, request, ctx, deps)));
    const source = context.with(active, () => inboundScope.run(scope, () => handler(request, ctx) as AsyncIterable<unknown>))[Symbol.asyncIterator]();
    iterator = source;
    for (;;) {
      const next = await context.with(active, () => inboundScope.run(scope, () => source.next()));
      if (next.done) return;
      yield next.value;
    }
  } catch (err) {
    failure = mapError(err, method, deps);
    throw failure;
  } finally {
    // A client that hangs up ends this generator early; let the handler's generator clean up too.
    void iterator?.return?.();
    deps.inFlight.leave();
    finish(method, ctx, deps, span, started, failure);
  }
}
