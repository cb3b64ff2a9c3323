import { z } from "zod";
import { authConfig, commonConfig, devSecret, kafkaConfig, loadConfig, mysqlConfig, serviceDatabase, servicePort, topologyEnv } from "@shopmesh/platform";

/** Environment of the payment service. */
export const paymentConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...kafkaConfig,
  ...authConfig,
  PAYMENT_PORT: servicePort("payment"),
  PAYMENT_DATABASE: serviceDatabase("payment"),
  /** The payment provider's API (the simulator locally). */
  PAYMENT_PROVIDER_URL: topologyEnv("payment", "PAYMENT_PROVIDER_URL"),
  /** Budget of one provider HTTP call; retries come on top. */
  PAYMENT_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  /** How often refunds to send and intents to cancel are looked for (besides a nudge after each commit that records some). */
  PAYMENT_PROVIDER_WORK_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  /** Shared secret of the provider's webhook signatures. */
  PAYMENT_WEBHOOK_SECRET: devSecret("whsec_dev_shopmesh"),
  /** How far a webhook's signed timestamp may be from now before it is refused as a replay. */
  PAYMENT_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
};

export type PaymentConfig = ReturnType<typeof loadPaymentConfig>;

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(paymentConfigShape, env);
}
