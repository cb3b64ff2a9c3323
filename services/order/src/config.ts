import { z } from "zod";
import { authConfig, commonConfig, kafkaConfig, loadConfig, mysqlConfig, redisConfig, serviceAddress, serviceDatabase, servicePort } from "@shopmesh/platform";

/** Environment of the order service. */
export const orderConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...authConfig,
  ORDER_PORT: servicePort("order"),
  ORDER_DATABASE: serviceDatabase("order"),
  IDENTITY_ADDR: serviceAddress("identity"),
  CART_ADDR: serviceAddress("cart"),
  PAYMENT_ADDR: serviceAddress("payment"),
  INVENTORY_ADDR: serviceAddress("inventory"),
  /** An order not paid within this window is cancelled and its stock released. */
  ORDER_PAYMENT_WINDOW_SECONDS: z.coerce.number().int().min(5).max(86400).default(900),
  /**
   * How long stock stays reserved for a pending order; a little longer than the payment window,
   * so the sweeper normally cancels first. A payment that succeeds after the reservation
   * expired cancels the order instead of paying it (payment then refunds).
   */
  RESERVATION_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(1200),
  ORDER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  SHIPPING_FEE_MINOR: z.coerce.number().int().min(0).default(499),
  FREE_SHIPPING_FROM_MINOR: z.coerce.number().int().min(0).default(5000),
  /** WatchOrder re-reads on each pushed update; this re-read covers an update lost while Redis was away. */
  WATCH_FALLBACK_POLL_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Live WatchOrder streams one customer may hold on one replica. */
  WATCH_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(1_000).default(5),
};

export type OrderConfig = ReturnType<typeof loadOrderConfig>;

export function loadOrderConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(orderConfigShape, env);
}
