import { z } from "zod";
import { authConfig, commonConfig, devDefault, kafkaConfig, loadConfig, mysqlConfig, port } from "@shopmesh/platform";

/** Environment of the payment service. */
export const paymentConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...kafkaConfig,
  ...authConfig,
  PAYMENT_PORT: port(50055),
  PAYMENT_DATABASE: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default("shopmesh_payment"),
  /** The payment provider's API (the simulator locally). */
  PAYMENT_PROVIDER_URL: devDefault("http://127.0.0.1:50065"),
  /** Budget of one provider HTTP call; retries come on top. */
  PAYMENT_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  /** Shared secret of the provider's webhook signatures. */
  PAYMENT_WEBHOOK_SECRET: devDefault("whsec_dev_shopmesh"),
  /** How far a webhook's signed timestamp may be from now before it is refused as a replay. */
  PAYMENT_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
};

export type PaymentConfig = ReturnType<typeof loadPaymentConfig>;

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(paymentConfigShape, env);
}
