import { PaymentService } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { createRpcServer, registration, type Logger, type ReadinessCheck, type RpcServer, type TokenVerifier, type MeshTlsFiles } from "@shopmesh/platform";
import { pingMysql, type Pool } from "@shopmesh/platform/data";
import { createPaymentService } from "./handlers/payment-service.js";
import type { Payments } from "./payments.js";
import type { PaymentStore } from "./store/payments.js";
import { providerWebhookRoute } from "./webhooks/provider-webhook.js";

export interface PaymentServerDeps {
  /** Mutual TLS on the gRPC side (mesh identities); absent: plaintext HTTP/2 (tests). */
  meshTls?: MeshTlsFiles | undefined;
  pool: Pool;
  payments: Payments;
  store: PaymentStore;
  logger: Logger;
  verifier: TokenVerifier;
  webhookSecret: string;
  webhookToleranceSeconds: number;
  extraReadiness?: ReadinessCheck[];
}

/** The payment service's routes: the RPCs, and the provider's webhook over plain HTTP. */
export function createPaymentServer(deps: PaymentServerDeps): RpcServer {
  return createRpcServer({
    meshTls: deps.meshTls,
    name: "payment",
    logger: deps.logger,
    services: [registration(PaymentService, createPaymentService({ payments: deps.payments, store: deps.store }))],
    verifier: deps.verifier,
    httpRoutes: [
      providerWebhookRoute({ payments: deps.payments, secret: deps.webhookSecret, toleranceSeconds: deps.webhookToleranceSeconds, logger: deps.logger }),
    ],
    readiness: [{ name: "mysql", check: () => pingMysql(deps.pool) }, ...(deps.extraReadiness ?? [])],
  });
}
