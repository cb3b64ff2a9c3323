import { OrderService } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import {
  createRpcServer,
  registration,
  type Logger,
  type ReadinessCheck,
  type RpcServer,
  type ServiceMetrics,
  type TokenVerifier,
  type MeshTlsFiles,
} from "@shopmesh/platform";
import { pingMysql, type Pool } from "@shopmesh/platform/data";
import { createOrderService, type OrderDeps } from "./handlers/order-service.js";

export interface OrderServerDeps extends OrderDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  pool: Pool;
  logger: Logger;
  verifier: TokenVerifier;
  metrics?: ServiceMetrics;
  extraReadiness?: ReadinessCheck[];
}

/** The order service's routes. */
export function createOrderServer(deps: OrderServerDeps): RpcServer {
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "order",
    logger: deps.logger,
    services: [registration(OrderService, createOrderService(deps))],
    verifier: deps.verifier,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
