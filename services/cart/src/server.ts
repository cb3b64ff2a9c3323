import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { createRpcServer, registration, type RpcServer, type TokenVerifier, type MeshTlsFiles } from "@shopmesh/platform";
import { pingRedis, type Redis } from "@shopmesh/platform/redis";
import { createCartService, type CartDeps } from "./handlers/cart-service.js";

export interface CartServerDeps extends CartDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  redis: Redis;
  verifier: TokenVerifier;
}

/**
 * The cart service's routes. Ready means Redis answers: catalog and inventory are guarded
 * per call by their circuit breakers, and tying readiness to them would take every cart
 * replica out of rotation whenever one downstream blips (ClearCart needs neither).
 */
export function createCartServer(deps: CartServerDeps): RpcServer {
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "cart",
    logger: deps.logger,
    services: [registration(CartService, createCartService(deps))],
    verifier: deps.verifier,
    readiness: [{ name: "redis", check: () => pingRedis(deps.redis) }],
  });
}
