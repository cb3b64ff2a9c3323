import { fileURLToPath } from "node:url";
import { consumerGroup, createJwtVerifier, TOPICS, type Logger, type RpcServer, type TokenVerifier, meshTlsFiles } from "@shopmesh/platform";
import { createEventConsumer, openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import type { InventoryConfig } from "./config.js";
import { orderEventHandlers } from "./events/order-events.js";
import { createInventory, type Inventory } from "./inventory.js";
import { createInventoryServer } from "./server.js";
import { createReservationStore } from "./store/reservations.js";
import { createStockLevelStore } from "./store/stock-levels.js";
import { createReservationSweeper, type ReservationSweeper } from "./sweeper.js";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

export interface InventoryApp {
  server: RpcServer;
  inventory: Inventory;
  sweeper: ReservationSweeper;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

export interface InventoryOverrides {
  /** Replaces the JWKS-backed verifier (tests use `createTestTokens().verifier`). */
  verifier?: TokenVerifier;
}

/** Wires the inventory service from its configuration: database, Kafka relay and order-event consumer, sweeper, server. */
export async function buildInventory(config: InventoryConfig, logger: Logger, overrides: InventoryOverrides = {}): Promise<InventoryApp> {
  const pool = await openServiceDatabase(config, { database: config.INVENTORY_DATABASE, migrations: MIGRATIONS, logger, consumesEvents: true });

  const publishing = await startEventPublishing(config, { service: "inventory", pool, logger });
  const { kafka, producer, relay } = publishing;

  const inventory = createInventory({
    pool,
    stock: createStockLevelStore(pool),
    reservations: createReservationStore(pool),
    defaultReservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
    onOutboxWrite: () => relay.nudge(),
  });
  const sweeper = createReservationSweeper({
    inventory,
    logger,
    intervalMs: config.RESERVATION_SWEEP_INTERVAL_MS,
    batchSize: config.RESERVATION_SWEEP_BATCH_SIZE,
  });
  sweeper.start();

  const consumer = createEventConsumer({
    kafka,
    pool,
    logger,
    producer,
    groupId: consumerGroup("inventory", config),
    topics: [TOPICS.order],
    startAt: config.KAFKA_CONSUMER_START,
    handlers: orderEventHandlers(inventory, logger, () => relay.nudge()),
  });
  await consumer.start();

  const verifier = overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) });
  const server = createInventoryServer({
    meshTls: meshTlsFiles(config),
    pool,
    inventory,
    logger,
    verifier,
    extraReadiness: [publishing.readiness, consumer.readiness],
  });
  return {
    server,
    inventory,
    sweeper,
    closers: [
      { name: "reservation sweeper", close: () => sweeper.stop() },
      { name: "order events consumer", close: () => consumer.stop() },
      { name: "event publishing", close: () => publishing.close() },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
