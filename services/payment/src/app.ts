import { fileURLToPath } from "node:url";
import { consumerGroup, createJwtVerifier, TOPICS, type Logger, type RpcServer, type TokenVerifier, meshTlsFiles } from "@shopmesh/platform";
import { createEventConsumer, openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import { createProviderClient } from "./clients/provider.js";
import type { PaymentConfig } from "./config.js";
import { orderCancelledHandler } from "./events/order-cancelled.js";
import { createPayments, type Payments } from "./payments.js";
import { createProviderWork } from "./provider-work.js";
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
  const pool = await openServiceDatabase(config, { database: config.PAYMENT_DATABASE, migrations: MIGRATIONS, logger, consumesEvents: true });

  const publishing = await startEventPublishing(config, { service: "payment", pool, logger });
  const { kafka, producer, relay } = publishing;

  const store = createPaymentStore(pool);
  const provider = createProviderClient({ baseUrl: config.PAYMENT_PROVIDER_URL, timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS, logger });
  const providerWork = createProviderWork({ pool, payments: store, provider, logger, intervalMs: config.PAYMENT_PROVIDER_WORK_INTERVAL_MS });
  providerWork.start();
  const payments = createPayments({
    pool,
    payments: store,
    provider,
    logger,
    onOutboxWrite: () => relay.nudge(),
    providerWork,
  });
  const consumer = createEventConsumer({
    kafka,
    pool,
    logger,
    groupId: consumerGroup("payment", config),
    topics: [TOPICS.order],
    handlers: [orderCancelledHandler(payments, () => providerWork.nudge())],
    producer,
    startAt: config.KAFKA_CONSUMER_START,
  });
  await consumer.start();

  const verifier = overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) });
  const server = createPaymentServer({
    meshTls: meshTlsFiles(config),
    pool,
    payments,
    store,
    logger,
    verifier,
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    webhookToleranceSeconds: config.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
    extraReadiness: [publishing.readiness, consumer.readiness],
  });
  return {
    server,
    payments,
    closers: [
      { name: "order events consumer", close: () => consumer.stop() },
      { name: "provider work", close: () => providerWork.stop() },
      { name: "event publishing", close: () => publishing.close() },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
