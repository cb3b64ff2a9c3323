import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { createRpcServer, registration, type ReadinessCheck, type RpcServer, type TokenVerifier, type MeshTlsFiles } from "@shopmesh/platform";
import { pingMysql } from "@shopmesh/platform/data";
import { createDeliveryService, type DeliveryServiceDeps } from "./handlers/delivery-service.js";

export interface DeliveryServerDeps extends DeliveryServiceDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  /** Checks access tokens against identity's keys (tests pass a local test key set). */
  verifier: TokenVerifier;
  /** Further dependencies health waits for (the broker). */
  extraReadiness?: ReadinessCheck[];
}

/** The delivery service's routes: the DeliveryService RPCs on both transports. */
export function createDeliveryServer(deps: DeliveryServerDeps): RpcServer {
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "delivery",
    logger: deps.logger,
    services: [registration(DeliveryService, createDeliveryService(deps))],
    verifier: deps.verifier,
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
