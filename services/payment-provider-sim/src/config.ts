import { z } from "zod";
import { commonConfig, devSecret, loadConfig, servicePort, topologyEnv } from "@shopmesh/platform";

/** Environment of the payment provider simulator. */
export const simulatorConfigShape = {
  ...commonConfig,
  PAYMENT_SIM_PORT: servicePort("payment-provider-sim"),
  /** Base URL put into checkout links; defaults to the address the simulator listens on. */
  PAYMENT_SIM_PUBLIC_URL: z.string().url().optional(),
  /** Where webhooks go (the payment service's webhook route). */
  PAYMENT_WEBHOOK_URL: topologyEnv("payment-provider-sim", "PAYMENT_WEBHOOK_URL"),
  /** Shared secret of the webhook signature. */
  PAYMENT_WEBHOOK_SECRET: devSecret("whsec_dev_shopmesh"),
  /** Deliveries of one webhook before the simulator gives up on it. */
  PAYMENT_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  /** First retry delay; doubles on each further attempt. */
  PAYMENT_WEBHOOK_INITIAL_BACKOFF_MS: z.coerce.number().int().min(1).max(60_000).default(250),
  /** How long the "slow" test cards take to settle. */
  PAYMENT_SIM_SLOW_CARD_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
};

export type SimulatorConfig = ReturnType<typeof loadSimulatorConfig>;

export function loadSimulatorConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(simulatorConfigShape, env);
}
