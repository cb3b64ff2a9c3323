import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import type { Caller, Transport } from "./context.js";
import { Auth, type MethodPolicy } from "./policy.js";

/** Verifies an access token and returns who it names; throws UnauthenticatedError otherwise. */
export interface TokenVerifier {
  verify(token: string): Promise<Caller>;
}

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  /** identity's JWKS endpoint, or a key set held in memory (identity itself). */
  jwks: URL | JSONWebKeySet;
}

/** Access-token verifier backed by identity's published keys (cached, refetched on unknown kid). */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const keys: JWTVerifyGetKey =
    options.jwks instanceof URL
      ? createRemoteJWKSet(options.jwks, { cooldownDuration: 5_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 2_000 })
      : createLocalJWKSet(options.jwks);
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: ["ES256"],
          requiredClaims: ["sub", "exp"],
        });
        const roles = Array.isArray(payload["roles"]) ? payload["roles"].filter((r): r is string => typeof r === "string") : [];
        return { userId: payload.sub as string, roles, token };
      } catch {
        // The reason (expired, bad signature, wrong audience) stays on the server side.
        throw new UnauthenticatedError("invalid or expired access token");
      }
    },
  };
}

function bearerToken(header: string | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthenticatedError("authorization header must be 'Bearer <token>'");
  return match[1];
}

/**
 * Applies a method's declared policy to a request. Returns the caller when a token was
 * presented (public methods may personalise), throws when the policy is not met.
 */
export async function authorize(
  policy: MethodPolicy,
  authorization: string | null,
  transport: Transport,
  verifier: TokenVerifier | undefined,
  mesh: { identity: string | undefined; required: boolean } = { identity: undefined, required: false },
): Promise<Caller | undefined> {
  if (policy.auth === Auth.INTERNAL && transport !== "grpc") {
    // Internal methods are reachable only on the service network, never through the edge.
    throw new PermissionDeniedError("this method is internal");
  }
  if (policy.auth === Auth.INTERNAL && mesh.required) {
    // With mutual TLS the caller is who its certificate says, and the contract names who may call.
    if (!mesh.identity) throw new UnauthenticatedError("this method needs a mesh identity (a client certificate of the mesh CA)");
    const callers = policy.callers ?? [];
    if (callers.length > 0 && !callers.includes(mesh.identity)) throw new PermissionDeniedError(`${mesh.identity} may not call this method`);
  }
  const token = bearerToken(authorization);
  let caller: Caller | undefined;
  if (token !== undefined) {
    if (!verifier) throw new UnauthenticatedError("this service does not accept access tokens");
    caller = await verifier.verify(token);
  }
  if (policy.auth === Auth.USER) {
    if (!caller) throw new UnauthenticatedError("sign in required");
    if (policy.roles.length > 0 && !policy.roles.some((role) => caller.roles.includes(role))) {
      throw new PermissionDeniedError(`requires role ${policy.roles.join(" or ")}`);
    }
  }
  return caller;
}
