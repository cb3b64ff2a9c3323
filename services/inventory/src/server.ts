import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createRpcServer, registration, type Logger, type ReadinessCheck, type RpcServer, type TokenVerifier, type MeshTlsFiles } from "@shopmesh/platform";
import { pingMysql, type Pool } from "@shopmesh/platform/data";
import { createInventoryService } from "./handlers/inventory-service.js";
import type { Inventory } from "./inventory.js";

export interface InventoryServerDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  pool: Pool;
  inventory: Inventory;
  logger: Logger;
  /** Checks access tokens against identity's keys (tests pass a local test key set). */
  verifier: TokenVerifier;
  /** Further dependencies health waits for (the broker). */
  extraReadiness?: ReadinessCheck[];
}

/** The inventory service's routes: the InventoryService RPCs on both transports. */
export function createInventoryServer(deps: InventoryServerDeps): RpcServer {
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "inventory",
    logger: deps.logger,
    services: [registration(InventoryService, createInventoryService({ inventory: deps.inventory }))],
    verifier: deps.verifier,
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
