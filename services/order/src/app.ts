import { fileURLToPath } from "node:url";
import {
  consumerGroup,
  createJwtVerifier,
  createServiceMetrics,
  TOPICS,
  type Logger,
  type RpcServer,
  type TokenVerifier,
  meshTlsFiles,
} from "@shopmesh/platform";
import { createEventConsumer, openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import { createRedis, pingRedis } from "@shopmesh/platform/redis";
import { closeDownstreams, createDownstreams } from "./clients/downstreams.js";
import type { OrderConfig } from "./config.js";
import { orderEventHandlers } from "./events/consumer.js";
import { createOrderUpdates } from "./events/order-updates.js";
import { createOrders } from "./orders.js";
import { createOrderServer } from "./server.js";
import { createOrderStore } from "./store/orders.js";
import { createUnpaidOrderSweeper } from "./sweeper.js";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

export interface OrderApp {
  server: RpcServer;
  sweeper: ReturnType<typeof createUnpaidOrderSweeper>;
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

/** Wires the order service: database, Redis (live updates), Kafka (outbox + consumer), downstream stubs. */
export async function buildOrder(config: OrderConfig, logger: Logger, overrides: { verifier?: TokenVerifier; now?: () => Date } = {}): Promise<OrderApp> {
  const metrics = createServiceMetrics("order");
  const pool = await openServiceDatabase(config, { database: config.ORDER_DATABASE, migrations: MIGRATIONS, logger, consumesEvents: true });

  const publisher = createRedis(config.REDIS_URL, logger, { name: "order", keyPrefix: config.REDIS_KEY_PREFIX });
  // A subscribed connection cannot run other commands; it also must queue while reconnecting.
  const subscriber = createRedis(config.REDIS_URL, logger, { name: "order-updates", keyPrefix: config.REDIS_KEY_PREFIX });
  const updates = createOrderUpdates(publisher, subscriber, logger);

  const publishing = await startEventPublishing(config, { service: "order", pool, logger });
  const { kafka, producer, relay } = publishing;

  const orders = createOrderStore(pool);
  const downstreams = createDownstreams(
    { identity: config.IDENTITY_ADDR, cart: config.CART_ADDR, inventory: config.INVENTORY_ADDR, payment: config.PAYMENT_ADDR },
    logger,
    metrics,
    meshTlsFiles(config),
  );
  const onOutboxWrite = () => relay.nudge();

  const consumer = createEventConsumer({
    kafka,
    pool,
    logger,
    producer,
    groupId: consumerGroup("order", config),
    topics: [TOPICS.payment, TOPICS.delivery],
    startAt: config.KAFKA_CONSUMER_START,
    handlers: orderEventHandlers({ orders, updates, logger, paymentWindowSeconds: config.ORDER_PAYMENT_WINDOW_SECONDS, onOutboxWrite }),
  });
  await consumer.start();

  const sweeper = createUnpaidOrderSweeper({
    pool,
    orders,
    updates,
    logger,
    paymentWindowSeconds: config.ORDER_PAYMENT_WINDOW_SECONDS,
    intervalMs: config.ORDER_SWEEP_INTERVAL_MS,
    onOutboxWrite,
    now: overrides.now,
  });
  sweeper.start();

  const verifier = overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) });
  const useCases = createOrders({
    pool,
    orders,
    downstreams,
    updates,
    logger,
    shipping: { feeMinor: BigInt(config.SHIPPING_FEE_MINOR), freeFromMinor: BigInt(config.FREE_SHIPPING_FROM_MINOR) },
    reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
    onOutboxWrite,
  });
  const server = createOrderServer({
    meshTls: meshTlsFiles(config),
    pool,
    orders,
    useCases,
    updates,
    logger,
    verifier,
    metrics,
    watchPollMs: config.WATCH_FALLBACK_POLL_MS,
    maxWatchesPerUser: config.WATCH_MAX_STREAMS_PER_USER,
    extraReadiness: [{ name: "redis", check: () => pingRedis(publisher) }, publishing.readiness, consumer.readiness],
  });
  return {
    server,
    sweeper,
    closers: [
      { name: "sweeper", close: () => sweeper.stop() },
      { name: "event consumer", close: () => consumer.stop() },
      { name: "event publishing", close: () => publishing.close() },
      { name: "downstream clients", close: () => closeDownstreams(downstreams) },
      { name: "redis", close: () => Promise.all([publisher.quit(), subscriber.quit()]) },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
