import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { createJwtVerifier, createRpcServer, registration, type ReadinessCheck, type RpcServer, type MeshTlsFiles } from "@shopmesh/platform";
import { pingMysql } from "@shopmesh/platform/data";
import { pingRedis, type Redis } from "@shopmesh/platform/redis";
import type { JSONWebKeySet } from "jose";
import { createAccounts, type AccountsDeps } from "./accounts.js";
import { createIdentityService } from "./handlers/identity-service.js";

export interface IdentityServerDeps extends AccountsDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  redis: Redis;
  jwks: JSONWebKeySet;
  tokenIssuer: string;
  tokenAudience: string;
  extraReadiness?: ReadinessCheck[];
}

export const JWKS_PATH = "/.well-known/jwks.json";

/** The identity service's routes: the RPCs, and the JWKS document over plain HTTP. */
export function createIdentityServer(deps: IdentityServerDeps): RpcServer {
  const jwksBody = JSON.stringify(deps.jwks);
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "identity",
    logger: deps.logger,
    services: [registration(IdentityService, createIdentityService({ accounts: createAccounts(deps) }))],
    // identity verifies its own tokens from the in-memory key set: no HTTP round trip to itself.
    verifier: createJwtVerifier({ issuer: deps.tokenIssuer, audience: deps.tokenAudience, jwks: deps.jwks }),
    httpRoutes: [
      {
        method: "GET",
        path: JWKS_PATH,
        handler: (_req, res) => void res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" }).end(jwksBody),
      },
    ],
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, { name: "redis", check: () => pingRedis(deps.redis) }, ...(deps.extraReadiness ?? [])],
  });
}
