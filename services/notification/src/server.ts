import { NotificationService } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { createRpcServer, registration, type ReadinessCheck, type RpcServer, type TokenVerifier, type MeshTlsFiles } from "@shopmesh/platform";
import { pingMysql } from "@shopmesh/platform/data";
import { createNotificationService, type NotificationDeps } from "./handlers/notification-service.js";

export interface NotificationServerDeps extends NotificationDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  verifier: TokenVerifier;
  extraReadiness?: ReadinessCheck[];
}

/** The notification service's routes: NotificationService over gRPC and Connect. */
export function createNotificationServer(deps: NotificationServerDeps): RpcServer {
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "notification",
    logger: deps.logger,
    services: [registration(NotificationService, createNotificationService(deps))],
    verifier: deps.verifier,
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
