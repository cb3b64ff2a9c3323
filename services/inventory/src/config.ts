import { z } from "zod";
import { authConfig, commonConfig, kafkaConfig, loadConfig, mysqlConfig, serviceDatabase, servicePort } from "@shopmesh/platform";

/** Environment of the inventory service. */
export const inventoryConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...kafkaConfig,
  ...authConfig,
  INVENTORY_PORT: servicePort("inventory"),
  INVENTORY_DATABASE: serviceDatabase("inventory"),
  /** How long a reservation holds stock when ReserveStock names no TTL. */
  RESERVATION_TTL_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
  /** How often each replica looks for expired reservations, and how many it releases per transaction. */
  RESERVATION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  RESERVATION_SWEEP_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(100),
};

export type InventoryConfig = ReturnType<typeof loadInventoryConfig>;

export function loadInventoryConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(inventoryConfigShape, env);
}
