import { z } from "zod";
import { authConfig, commonConfig, kafkaConfig, loadConfig, mysqlConfig, serviceDatabase, servicePort } from "@shopmesh/platform";

/** Environment of the delivery service. */
export const deliveryConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...kafkaConfig,
  ...authConfig,
  DELIVERY_PORT: servicePort("delivery"),
  DELIVERY_DATABASE: serviceDatabase("delivery"),
  /** How often each replica retries paid deliveries that found no partner, and how many it reads per query. */
  DELIVERY_ASSIGN_RETRY_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
  DELIVERY_ASSIGN_RETRY_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(100),
};

export type DeliveryConfig = ReturnType<typeof loadDeliveryConfig>;

export function loadDeliveryConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(deliveryConfigShape, env);
}
