import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { createRpcServer, registration, type ReadinessCheck, type RpcServer, type TokenVerifier } from "@shopmesh/platform";
import { pingMysql } from "@shopmesh/platform/data";
import { createDeliveryService, type DeliveryServiceDeps } from "./handlers/delivery-service.js";

export interface DeliveryServerDeps extends DeliveryServiceDeps {
  /** Checks access tokens against identity's keys (tests pass a local test key set). */
  verifier: TokenVerifier;
  /** Further dependencies health waits for (the broker). */
  extraReadiness?: ReadinessCheck[];
}

/** The delivery service's routes: the DeliveryService RPCs on both transports. */
export function createDeliveryServer(deps: DeliveryServerDeps): RpcServer {
  return createRpcServer({
    name: "delivery",
    logger: deps.logger,
    services: [registration(DeliveryService, createDeliveryService(deps))],
    verifier: deps.verifier,
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
