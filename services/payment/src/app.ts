import { fileURLToPath } from "node:url";
import {
  createEventConsumer,
  createIdempotentProducer,
  createJwtVerifier,
  createKafka,
  createMysqlPool,
  createOutboxRelay,
  migrateOutbox,
  migrateProcessedEvents,
  runMigrations,
  TOPICS,
  type Logger,
  type RpcServer,
  type TokenVerifier,
} from "@shopmesh/platform";
import { createProviderClient } from "./clients/provider.js";
import type { PaymentConfig } from "./config.js";
import { orderCancelledHandler } from "./events/order-cancelled.js";
import { createPayments, type Payments } from "./payments.js";
import { createPaymentServer } from "./server.js";
import { createPaymentStore } from "./store/payments.js";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

export interface PaymentApp {
  server: RpcServer;
  payments: Payments;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

export interface PaymentOverrides {
  /** Replaces the JWKS-backed verifier (tests use `createTestTokens().verifier`). */
  verifier?: TokenVerifier;
}

/** Wires the payment service: database, provider client, Kafka relay and consumer, server. */
export async function buildPayment(config: PaymentConfig, logger: Logger, overrides: PaymentOverrides = {}): Promise<PaymentApp> {
  const pool = await createMysqlPool({
    host: config.MYSQL_HOST,
    port: config.MYSQL_PORT,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.PAYMENT_DATABASE,
    poolSize: config.MYSQL_POOL_SIZE,
  });
  await runMigrations(pool, MIGRATIONS, logger);
  await migrateOutbox(pool, logger);
  await migrateProcessedEvents(pool, logger);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: "payment", logger, topicPrefix: config.KAFKA_TOPIC_PREFIX });
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const relay = createOutboxRelay({ pool, producer, logger, source: "/shopmesh/payment" });
  relay.start();

  const store = createPaymentStore(pool);
  const payments = createPayments({
    pool,
    payments: store,
    provider: createProviderClient({ baseUrl: config.PAYMENT_PROVIDER_URL, timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS, logger }),
    logger,
    onOutboxWrite: () => relay.nudge(),
  });
  const consumer = createEventConsumer({
    kafka,
    pool,
    logger,
    groupId: config.PAYMENT_CONSUMER_GROUP,
    topics: [TOPICS.order],
    handlers: [orderCancelledHandler(payments)],
    producer,
    startAt: config.KAFKA_CONSUMER_START,
  });
  await consumer.start();

  const verifier = overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) });
  const server = createPaymentServer({
    pool,
    payments,
    store,
    logger,
    verifier,
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    webhookToleranceSeconds: config.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
  });
  return {
    server,
    payments,
    closers: [
      { name: "order events consumer", close: () => consumer.stop() },
      { name: "outbox relay", close: () => relay.stop() },
      { name: "kafka producer", close: () => producer.disconnect() },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
