import { fileURLToPath } from "node:url";
import { consumerGroup, createJwtVerifier, TOPICS, type Logger, type RpcServer, type TokenVerifier, meshTlsFiles } from "@shopmesh/platform";
import { createEventConsumer, openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import { createAssignmentRetrier, type AssignmentRetrier } from "./assignment-retrier.js";
import type { DeliveryConfig } from "./config.js";
import { createDeliveries, type Deliveries } from "./deliveries.js";
import { orderEventHandlers } from "./events/order-events.js";
import { createDeliveryServer } from "./server.js";
import { createDeliveryStore } from "./store/deliveries.js";
import { createPartnerStore } from "./store/partners.js";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

export interface DeliveryApp {
  server: RpcServer;
  deliveries: Deliveries;
  retrier: AssignmentRetrier;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

export interface DeliveryOverrides {
  /** Replaces the JWKS-backed verifier (tests use `createTestTokens().verifier`). */
  verifier?: TokenVerifier;
}

/** Wires the delivery service: database, Kafka relay and order-event consumer, assignment retrier, server. */
export async function buildDelivery(config: DeliveryConfig, logger: Logger, overrides: DeliveryOverrides = {}): Promise<DeliveryApp> {
  const pool = await openServiceDatabase(config, { database: config.DELIVERY_DATABASE, migrations: MIGRATIONS, logger, consumesEvents: true });

  const publishing = await startEventPublishing(config, { service: "delivery", pool, logger });
  const { kafka, producer, relay } = publishing;

  const partners = createPartnerStore(pool);
  const deliveryStore = createDeliveryStore(pool);
  const deliveries = createDeliveries({ pool, deliveries: deliveryStore, partners, logger, onOutboxWrite: () => relay.nudge() });
  const retrier = createAssignmentRetrier({
    deliveries,
    logger,
    intervalMs: config.DELIVERY_ASSIGN_RETRY_INTERVAL_MS,
    batchSize: config.DELIVERY_ASSIGN_RETRY_BATCH_SIZE,
  });
  retrier.start();

  const consumer = createEventConsumer({
    kafka,
    pool,
    logger,
    groupId: consumerGroup("delivery", config),
    topics: [TOPICS.order],
    handlers: orderEventHandlers(deliveries, () => relay.nudge()),
    producer,
    startAt: config.KAFKA_CONSUMER_START,
  });
  await consumer.start();

  const verifier = overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) });
  const server = createDeliveryServer({
    meshTls: meshTlsFiles(config),
    pool,
    partners,
    deliveries: deliveryStore,
    useCases: deliveries,
    logger,
    verifier,
    onPartnersChanged: () => retrier.nudge(),
    extraReadiness: [publishing.readiness, consumer.readiness],
  });
  return {
    server,
    deliveries,
    retrier,
    closers: [
      { name: "order event consumer", close: () => consumer.stop() },
      { name: "assignment retrier", close: () => retrier.stop() },
      { name: "event publishing", close: () => publishing.close() },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
