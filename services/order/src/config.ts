import { z } from "zod";
import { authConfig, commonConfig, devDefault, kafkaConfig, loadConfig, mysqlConfig, port, redisConfig } from "@shopmesh/platform";

/** Environment of the order service. */
export const orderConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...authConfig,
  ORDER_PORT: port(50054),
  ORDER_DATABASE: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default("shopmesh_order"),
  IDENTITY_ADDR: devDefault("127.0.0.1:50051"),
  CATALOG_ADDR: devDefault("127.0.0.1:50052"),
  CART_ADDR: devDefault("127.0.0.1:50053"),
  PAYMENT_ADDR: devDefault("127.0.0.1:50055"),
  INVENTORY_ADDR: devDefault("127.0.0.1:50056"),
  /** An order not paid within this window is cancelled and its stock released. */
  ORDER_PAYMENT_WINDOW_SECONDS: z.coerce.number().int().min(5).max(86400).default(900),
  /** How long stock stays reserved for a pending order; a little longer than the payment window. */
  RESERVATION_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(1200),
  ORDER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  SHIPPING_FEE_MINOR: z.coerce.number().int().min(0).default(499),
  FREE_SHIPPING_FROM_MINOR: z.coerce.number().int().min(0).default(5000),
};

export type OrderConfig = ReturnType<typeof loadOrderConfig>;

export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(orderConfigShape, env);
}
