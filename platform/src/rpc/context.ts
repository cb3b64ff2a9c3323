import { AsyncLocalStorage } from "node:async_hooks";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { UnauthenticatedError } from "../errors.js";

/** The verified identity behind a request. `token` is forwarded on downstream calls. */
export interface Caller {
  userId: string;
  roles: readonly string[];
  token: string;
}

/** Set by the auth step of the pipeline; handlers read it with `requireCaller`. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "verified caller" });

/** Which transport carried the call: grpc-js (internal callers) or connect-node (the edge). */
export type Transport = "grpc" | "connect";
export const transportKey = createContextKey<Transport>("connect", { description: "transport" });

/**
 * The caller's mesh identity (its certificate's SPIFFE name) when it came over mutual TLS.
 * A function: reading the peer certificate costs a copy per call, so only internal methods,
 * which check it, pay for it.
 */
export const peerIdentityKey = createContextKey<() => string | undefined>(() => undefined, { description: "mesh identity of the caller" });

/** The address of the connection's other end, as the transport saw it (undefined in memory). */
export const peerAddressKey = createContextKey<string | undefined>(undefined, { description: "peer address" });

/**
 * The end client's address: what the edge recorded (Envoy sets x-envoy-external-address for
 * requests from outside and strips any a client sent), else the connection's peer. Until
 * callers carry mesh identities, a caller that bypasses the edge can name any address here;
 * docs/security.md lists it among what is still trusted.
 */
export function clientAddress(ctx: HandlerContext): string {
  return ctx.requestHeader.get("x-envoy-external-address") ?? ctx.values.get(peerAddressKey) ?? "unknown";
}

/** The caller of a method whose policy demands a signed-in user. */
export function requireCaller(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new UnauthenticatedError("sign in required");
  return caller;
}

export function hasRole(caller: Caller | undefined, role: string): boolean {
  return caller?.roles.includes(role) ?? false;
}

/**
 * What outgoing calls inherit from the request being served: its absolute deadline
 * (epoch ms) and the caller's bearer token. Kept in async context so a handler does not
 * have to thread them through every function it calls.
 */
export interface InboundScope {
  deadline: number | undefined;
  authorization: string | undefined;
}
export const inboundScope = new AsyncLocalStorage<InboundScope>();
