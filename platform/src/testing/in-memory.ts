/**
 * Handler tests without a network: connect's in-memory `createRouterTransport` in front of the
 * same pipeline a server runs (auth from the contract's policy, validation, error mapping), so
 * a test drives a handler with fakes for its stores and callees in milliseconds.
 */
import type { DescService } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { TokenVerifier } from "../rpc/auth.js";
import { transportKey, type Transport } from "../rpc/context.js";
import { wrapServiceImpl } from "../rpc/pipeline.js";
import { createRequestValidator } from "../rpc/validation.js";
import { createServiceMetrics } from "../metrics.js";
import { testLogger } from "./index.js";

export interface InMemoryOptions {
  verifier?: TokenVerifier;
  /** A bearer token sent with every call. */
  token?: string;
  /** The transport the pipeline believes carried the call: "grpc" is how internal callers arrive. */
  transport?: Transport;
}

/** A client of `impl` behind the real pipeline, in memory. */
export function inMemoryClient<S extends DescService>(service: S, impl: ServiceImpl<S>, options: InMemoryOptions = {}): Client<S> {
  const wrapped = wrapServiceImpl(service, impl, {
    serviceName: `in-memory ${service.name}`,
    logger: testLogger(service.name),
    validator: createRequestValidator(),
    verifier: options.verifier,
    metrics: createServiceMetrics(service.name),
    inFlight: { enter: () => undefined, leave: () => undefined },
  }) as unknown as Record<string, (request: unknown, ctx: HandlerContext) => unknown>;
  const transport = options.transport ?? "connect";
  // Tells the pipeline which transport it is on, as the grpc-js and connect-node adapters do.
  const routed = Object.fromEntries(
    Object.entries(wrapped).map(([name, handler]) => [
      name,
      (request: unknown, ctx: HandlerContext) => {
        ctx.values.set(transportKey, transport);
        return handler(request, ctx);
      },
    ]),
  ) as unknown as ServiceImpl<S>;
  const token = options.token;
  return createClient(
    service,
    createRouterTransport((router) => router.service(service, routed), {
      transport: {
        interceptors: token
          ? [
              (next) => (request) => {
                request.header.set("authorization", `Bearer ${token}`);
                return next(request);
              },
            ]
          : [],
      },
    }),
  );
}
