import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { peerAddressKey, peerIdentityKey, transportKey } from "./context.js";
import { meshIdentityOf } from "./mesh-tls.js";

/**
 * grpc-js service definition derived from a protobuf-es service descriptor: the same
 * generated code serves both transports; no second code generator, no .proto at run time.
 */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  return Object.fromEntries(service.methods.map((method) => [method.localName, grpcMethodDefinition(method)]));
}

export function grpcMethodDefinition(method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    originalName: method.localName,
    requestSerialize: (value) => Buffer.from(toBinary(method.input, create(method.input, value as never))),
    requestDeserialize: (bytes) => fromBinary(method.input, bytes),
    responseSerialize: (value) => Buffer.from(toBinary(method.output, create(method.output, value as never))),
    responseDeserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

function metadataToHeaders(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === "string") headers.set(key, value);
  }
  return headers;
}

function headersToMetadata(headers: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  headers.forEach((value, key) => metadata.set(key, value));
  return metadata;
}

/** The host of a grpc-js peer string (`ipv4:127.0.0.1:5000`, `[::1]:5000`, `127.0.0.1:5000`). */
function peerHost(peer: string): string {
  const address = peer.replace(/^(?:ipv4|ipv6):/, "");
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  return bracketed ? bracketed[1]! : address.replace(/:\d+$/, "");
}

function handlerContext(
  method: DescMethod,
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
  shutdownSignal: AbortSignal,
): ReturnType<typeof createHandlerContext> {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const requestSignal = new AbortController();
  // A ConnectError, as connect-node aborts with: work a handler gives up on this signal is a
  // cancellation (CANCELED), not an unexpected failure to log and answer INTERNAL.
  call.once("cancelled", () => requestSignal.abort(new ConnectError("cancelled by client", Code.Canceled)));
  const values = createContextValues()
    .set(transportKey, "grpc")
    .set(peerAddressKey, peerHost(call.getPeer()))
    .set(peerIdentityKey, () => meshIdentityOf(call.getAuthContext().sslPeerCertificate));
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `/${method.parent.typeName}/${method.name}`,
    requestHeader: metadataToHeaders(call.metadata),
    ...(Number.isFinite(deadlineMs) ? { timeoutMs: Math.max(0, deadlineMs - Date.now()) } : {}),
    requestSignal: requestSignal.signal,
    shutdownSignal,
    contextValues: values,
  });
}

export const STATUS_DETAILS = "grpc-status-details-bin";

/**
 * Pipeline errors are ConnectErrors; Connect codes are the gRPC codes by number. Error details
 * go out as the same google.rpc.Status the Connect path sends (encoded by connect's own trailer
 * code), so a grpc-js client reads them as a Connect client does.
 */
function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const connectError = err as ConnectError;
  const metadata = headersToMetadata(connectError.metadata ?? new Headers());
  if (connectError.details?.length) {
    const encoded = setTrailerStatus(new Headers(), connectError).get(STATUS_DETAILS);
    if (encoded) metadata.set(STATUS_DETAILS, Buffer.from(encoded, "base64"));
  }
  return { code: connectError.code as number as grpc.status, details: connectError.rawMessage ?? "internal error", metadata };
}

/** grpc-js handlers that call the (already wrapped) implementation. */
export function grpcHandlers(service: DescService, impl: ServiceImpl<DescService>, shutdownSignal: AbortSignal): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  const implByName = impl as unknown as Record<string, (request: unknown, ctx: HandlerContext) => unknown>;
  for (const method of service.methods) {
    const fn = implByName[method.localName]!;
    if (method.methodKind === "unary") {
      handlers[method.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const ctx = handlerContext(method, call, shutdownSignal);
        Promise.resolve(fn(call.request, ctx))
          .then(
            (response) => callback(null, response, headersToMetadata(ctx.responseTrailer)),
            (err: unknown) => callback(toServiceError(err)),
          )
          // As connect-node does when a call ends: clears the deadline timer, which would
          // otherwise keep the process alive until the client's deadline passes.
          .finally(() => ctx.abort());
      };
    } else if (method.methodKind === "server_streaming") {
      handlers[method.localName] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const ctx = handlerContext(method, call, shutdownSignal);
        void (async () => {
          try {
            for await (const message of fn(call.request, ctx) as AsyncIterable<unknown>) {
              if (call.cancelled) break;
              if (!call.write(message)) await new Promise((resolve) => call.once("drain", resolve));
            }
            call.end(headersToMetadata(ctx.responseTrailer));
          } catch (err) {
            call.emit("error", toServiceError(err));
          } finally {
            ctx.abort();
          }
        })();
      };
    }
  }
  return handlers;
}
