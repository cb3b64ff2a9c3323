import type { Kafka, Producer } from "kafkajs";
import type { Pool } from "mysql2/promise";
import { runMigrations } from "./db/migrations.js";
import { createMysqlPool } from "./db/mysql.js";
import { migrateProcessedEvents } from "./kafka/consumer.js";
import { createIdempotentProducer, createKafka, kafkaReadiness, type KafkaReadiness } from "./kafka/events.js";
import { createOutboxRelay, migrateOutbox, type OutboxRelay } from "./kafka/outbox.js";
import type { Logger } from "./logger.js";

/** The `mysqlConfig` variables, as every service's config has them. */
export interface MysqlSettings {
  MYSQL_HOST: string;
  MYSQL_PORT: number;
  MYSQL_USER: string;
  MYSQL_PASSWORD: string;
  MYSQL_POOL_SIZE: number;
}

/**
 * Opens the service's own database (created if missing) and brings its schema up to date:
 * the service's migrations, the outbox table, and for event consumers the processed-events
 * table. The same three steps in every service, so they live here once.
 */
export async function openServiceDatabase(
  settings: MysqlSettings,
  options: { database: string; migrations: string; logger: Logger; consumesEvents?: boolean },
): Promise<Pool> {
  const pool = await createMysqlPool({
    host: settings.MYSQL_HOST,
    port: settings.MYSQL_PORT,
    user: settings.MYSQL_USER,
    password: settings.MYSQL_PASSWORD,
    database: options.database,
    poolSize: settings.MYSQL_POOL_SIZE,
  });
  try {
    await runMigrations(pool, options.migrations, options.logger);
    await migrateOutbox(pool, options.logger);
    if (options.consumesEvents) await migrateProcessedEvents(pool, options.logger);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return pool;
}

/** The `kafkaConfig` variables publishing needs. */
export interface KafkaSettings {
  KAFKA_BROKERS: string;
  KAFKA_TOPIC_PREFIX: string;
  OUTBOX_RELAY_ENABLED: "true" | "false";
}

export interface EventPublishing {
  kafka: Kafka;
  producer: Producer;
  relay: OutboxRelay;
  /**
   * The broker as a readiness check: put it in the server's `readiness` so health reports
   * NOT_SERVING while Kafka is unreachable (events would pile up in the outbox meanwhile).
   */
  readiness: KafkaReadiness;
  /** Stops the relay (finishing its batch), then disconnects the producer and the readiness check. */
  close(): Promise<void>;
}

/**
 * A producer that connects when it is first used (the relay's first batch, a dead letter) and
 * again after a failed attempt, rather than at start: a service started while the broker is
 * away still serves, its events wait in the outbox, and the relay publishes them once it is back.
 */
function connectOnFirstUse(producer: Producer, logger: Logger): Producer {
  let connecting: Promise<void> | undefined;
  const connected = () =>
    (connecting ??= producer.connect().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    }));
  connected().catch((err: unknown) => logger.warn({ err }, "Kafka is unreachable: events wait in the outbox until it is back"));
  return Object.assign(Object.create(producer) as Producer, {
    send: async (record: Parameters<Producer["send"]>[0]) => {
      await connected();
      return producer.send(record);
    },
    sendBatch: async (batch: Parameters<Producer["sendBatch"]>[0]) => {
      await connected();
      return producer.sendBatch(batch);
    },
  });
}

/**
 * Connects a service to Kafka and starts its outbox relay: events committed with a state
 * change are published from the `outbox` table as CloudEvents (source `/shopmesh/<service>`).
 * OUTBOX_RELAY_ENABLED=false leaves them in the outbox.
 */
export async function startEventPublishing(settings: KafkaSettings, options: { service: string; pool: Pool; logger: Logger }): Promise<EventPublishing> {
  const { service, pool, logger } = options;
  const kafka = createKafka({ brokers: settings.KAFKA_BROKERS, clientId: service, logger, topicPrefix: settings.KAFKA_TOPIC_PREFIX });
  const producer = connectOnFirstUse(createIdempotentProducer(kafka), logger);
  const relay = createOutboxRelay({ pool, producer, logger, source: `/shopmesh/${service}` });
  if (settings.OUTBOX_RELAY_ENABLED === "true") relay.start();
  else logger.warn("outbox relay disabled: events stay in the outbox until it is enabled");
  const readiness = kafkaReadiness(kafka);
  return {
    kafka,
    producer,
    relay,
    readiness,
    async close() {
      await relay.stop();
      await producer.disconnect();
      await readiness.close();
    },
  };
}
