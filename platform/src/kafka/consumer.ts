import { fileURLToPath } from "node:url";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_KAFKA_MESSAGE_KEY,
  ATTR_KAFKA_OFFSET,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_SYSTEM_NAME_VALUE_KAFKA,
} from "@opentelemetry/semantic-conventions/incubating";
import { ExponentialBackoff, handleWhen, retry, wrap } from "cockatiel";
import type { Consumer, IHeaders, Kafka, KafkaMessage, Producer } from "kafkajs";
import type { Pool, PoolConnection, RowDataPacket } from "mysql2/promise";
import type { Logger } from "../logger.js";
import type { ReadinessCheck } from "../rpc/server.js";
import { isDatabaseUnavailable, isDuplicateKey, withTransaction } from "../db/mysql.js";
import { runMigrations } from "../db/migrations.js";
import { failpoint, FAILPOINTS, rejectingFailpoint } from "../failpoint.js";
import { platformMetrics } from "../metrics.js";
import { deadLetterTopic } from "../topology.js";
import { processSpanName } from "../telemetry/schema.js";
import { CE, decodeEvent, headerString } from "./events.js";

const CONSUMER_MIGRATIONS = fileURLToPath(new URL("../../migrations/consumer", import.meta.url));

export async function migrateProcessedEvents(pool: Pool, logger: Logger): Promise<void> {
  await runMigrations(pool, CONSUMER_MIGRATIONS, logger, { table: "platform_consumer_migrations" });
}

export interface EventMeta {
  id: string;
  type: string;
  source: string | undefined;
  key: string | undefined;
  topic: string;
  partition: number;
  offset: string;
}

/** Applies one event's effect inside the transaction that also records the event as processed. */
export interface EventHandler<D extends DescMessage = DescMessage> {
  schema: D;
  handle(event: MessageShape<D>, meta: EventMeta, connection: PoolConnection): Promise<void>;
  /** Work to do after the transaction committed (notify watchers, nudge a relay). */
  afterCommit?(event: MessageShape<D>, meta: EventMeta): void;
  /** An effect outside the database (see onExternal), applied before the event is recorded. */
  external?(event: MessageShape<D>, meta: EventMeta): Promise<void>;
}

export function on<D extends DescMessage>(schema: D, handle: EventHandler<D>["handle"], afterCommit?: EventHandler<D>["afterCommit"]): EventHandler {
  return { schema, handle, ...(afterCommit ? { afterCommit } : {}) } as unknown as EventHandler;
}

/**
 * A handler whose effect lives outside the service's database (a search index, say) and is
 * idempotent by itself (a version-guarded write). It runs before the event is recorded as
 * processed and outside any transaction, so no database transaction waits on the network; a
 * crash in between applies it again on redelivery, which its own guard absorbs.
 */
export function onExternal<D extends DescMessage>(schema: D, effect: NonNullable<EventHandler<D>["external"]>): EventHandler {
  return { schema, handle: async () => undefined, external: effect } as unknown as EventHandler;
}

/**
 * A dependency of a handler other than the database is unreachable (a search engine, say).
 * Not the event's fault: the consumer waits for it, as for the database, instead of spending
 * the event's attempts and dead-lettering it.
 */
export class DependencyUnavailableError extends Error {
  override name = "DependencyUnavailableError";
}

/** An event that can never succeed (undecodable, rule broken); it goes to the dead-letter topic at once. */
export class PoisonEventError extends Error {
  override name = "PoisonEventError";
}

export interface EventConsumerOptions {
  kafka: Kafka;
  pool: Pool;
  logger: Logger;
  /** Consumer group, one per service and purpose: `shopmesh.<service>`. */
  groupId: string;
  topics: string[];
  handlers: EventHandler[];
  /** Producer used for dead letters. */
  producer: Producer;
  maxAttempts?: number;
  initialBackoffMs?: number;
  /**
   * Where a consumer group with no committed offsets starts: the beginning (default, so a
   * service deployed after events already flowed misses none) or the current end, committed
   * before subscribing (tests: a fresh group per run sees exactly what is produced after
   * `start()` resolved, not the topic's history).
   */
  startAt?: "beginning" | "end";
  onRetry?: (meta: EventMeta, attempt: number) => void;
  onDeadLetter?: (meta: EventMeta, error: string) => void;
}

export { deadLetterTopic };

const tracer = trace.getTracer("shopmesh.events");
const dependencyAway = (err: unknown) => isDatabaseUnavailable(err) || err instanceof DependencyUnavailableError;
const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
const headerGetter = {
  keys: (carrier: IHeaders) => Object.keys(carrier),
  get: (carrier: IHeaders, key: string) => headerString(carrier, key),
};

/**
 * Consumes CloudEvents from Kafka and applies each at most once per consumer group:
 * the effect and the processed-event row commit together, so a redelivery is a no-op.
 * Failures retry with exponential backoff; after `maxAttempts` the message goes to
 * `<topic>.dlq` with its original headers plus the error, and the partition moves on.
 */
export interface EventConsumer {
  consumer: Consumer;
  start(): Promise<void>;
  /** Not critical: degraded until the consumer has joined its group (see start). */
  readiness: ReadinessCheck;
  stop(): Promise<void>;
}

export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { logger, pool } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const handlers = new Map(options.handlers.map((handler) => [handler.schema.typeName, handler]));
  // A member that crashed keeps its partitions until its session times out, and a replacement
  // cannot join (nor its service start) before that: 10 s, not kafkajs's 30 s.
  const consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  let stopping = false;

  async function applyOnce(handler: EventHandler, message: KafkaMessage, meta: EventMeta): Promise<boolean> {
    let event: MessageShape<DescMessage>;
    try {
      event = decodeEvent(handler.schema, message.value ?? new Uint8Array());
    } catch (err) {
      throw new PoisonEventError(`cannot decode ${meta.type}: ${(err as Error).message}`);
    }
    if (handler.external) {
      const [seen] = await pool.execute<RowDataPacket[]>("SELECT 1 FROM processed_events WHERE consumer = ? AND event_id = ?", [options.groupId, meta.id]);
      if (seen.length > 0) return false;
      await handler.external(event, meta);
    }
    const applied = await withTransaction(pool, async (connection) => {
      try {
        await connection.execute("INSERT INTO processed_events (consumer, event_id, event_type) VALUES (?, ?, ?)", [options.groupId, meta.id, meta.type]);
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
      rejectingFailpoint(meta.id);
      await handler.handle(event, meta, connection);
      return true;
    });
    // A crash here redelivers the event after restart: the processed_events row makes it a no-op.
    if (applied) failpoint(FAILPOINTS.consumerAfterCommit);
    if (applied) handler.afterCommit?.(event, meta);
    else logger.debug({ event_id: meta.id, type: meta.type }, "duplicate event skipped");
    return applied;
  }

  function recordOutcome(message: KafkaMessage, meta: EventMeta, outcome: "applied" | "duplicate" | "dead_lettered"): void {
    const labels = { group: options.groupId, topic: meta.topic };
    platformMetrics.eventsProcessed.inc({ ...labels, type: meta.type, outcome });
    const created = Date.parse(headerString(message.headers, CE.time) ?? "");
    if (Number.isFinite(created)) platformMetrics.eventLatency.observe(labels, Math.max(0, Date.now() - created) / 1000);
  }

  async function deadLetter(message: KafkaMessage, meta: EventMeta, error: string, attempts: number): Promise<void> {
    await options.producer.send({
      topic: deadLetterTopic(meta.topic),
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            dlq_error: error.slice(0, 2000),
            dlq_attempts: String(attempts),
            dlq_original_topic: meta.topic,
            dlq_original_partition: String(meta.partition),
            dlq_original_offset: meta.offset,
            dlq_consumer_group: options.groupId,
            dlq_time: new Date().toISOString(),
          },
        },
      ],
    });
    platformMetrics.eventDeadLetters.inc({ group: options.groupId, topic: meta.topic });
    options.onDeadLetter?.(meta, error);
    logger.error({ event_id: meta.id, type: meta.type, topic: meta.topic, attempts, error }, "event dead-lettered");
  }

  async function process(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> {
    const meta: EventMeta = {
      id: headerString(message.headers, CE.id) ?? `${topic}:${partition}:${message.offset}`,
      type: headerString(message.headers, CE.type) ?? "",
      source: headerString(message.headers, CE.source),
      key: message.key?.toString(),
      topic,
      partition,
      offset: message.offset,
    };
    const handler = handlers.get(meta.type);
    if (!handler) {
      // A topic carries every event of its aggregate; this consumer reacts to some of them. The
      // rest are skipped on purpose, and counted, so an event type nobody handles is visible.
      platformMetrics.eventsProcessed.inc({ group: options.groupId, topic, type: meta.type || "unknown", outcome: "skipped" });
      return;
    }
    const parent = propagation.extract(context.active(), message.headers ?? {}, headerGetter);
    const span = tracer.startSpan(
      processSpanName(topic),
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM_NAME]: MESSAGING_SYSTEM_NAME_VALUE_KAFKA,
          [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
          [ATTR_MESSAGING_OPERATION_NAME]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
          [ATTR_MESSAGING_DESTINATION_NAME]: topic,
          [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
          [ATTR_KAFKA_OFFSET]: Number(message.offset),
          ...(meta.key !== undefined ? { [ATTR_KAFKA_MESSAGE_KEY]: meta.key } : {}),
          [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: options.groupId,
          [ATTR_MESSAGING_MESSAGE_ID]: meta.id,
          [ATTR_CLOUDEVENTS_EVENT_TYPE]: meta.type,
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), async () => {
        // A failing handler retries with backoff and is dead-lettered after maxAttempts; the
        // database (or another dependency) being away is not the event's fault, so that waits
        // (heartbeating, partition held in order) for as long as it lasts. Neither retries a poison event or while stopping.
        const handlerFailures = retry(
          handleWhen((err) => !(err instanceof PoisonEventError) && !dependencyAway(err) && !stopping),
          { maxAttempts: maxAttempts - 1, backoff: new ExponentialBackoff({ initialDelay: initialBackoffMs, maxDelay: 30_000 }) },
        );
        const dependencyOutage = retry(
          handleWhen((err) => dependencyAway(err) && !stopping),
          { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ExponentialBackoff({ initialDelay: initialBackoffMs, maxDelay: 5_000 }) },
        );
        let attempts = 0;
        const onRetry = (reason: { error: Error } | { value: unknown }) => {
          const err = "error" in reason ? reason.error : undefined;
          platformMetrics.eventRetries.inc({ group: options.groupId, topic: meta.topic });
          options.onRetry?.(meta, attempts);
          logger.warn({ event_id: meta.id, type: meta.type, attempt: attempts, err: describe(err) }, "event failed; retrying");
          void heartbeat().catch(() => undefined);
        };
        handlerFailures.onRetry(onRetry);
        dependencyOutage.onRetry(onRetry);
        try {
          const applied = await wrap(dependencyOutage, handlerFailures).execute(() => {
            attempts++;
            return applyOnce(handler, message, meta);
          });
          recordOutcome(message, meta, applied ? "applied" : "duplicate");
        } catch (err) {
          // Stopping mid-retry: leave the event uncommitted for the partition's next owner.
          if (stopping && !(err instanceof PoisonEventError)) throw err;
          const reason = describe(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
          await deadLetter(message, meta, reason, attempts);
          recordOutcome(message, meta, "dead_lettered");
        }
      });
    } finally {
      span.end();
    }
  }

  let joinedGroup = false;
  let untrackDeadLetters: (() => void) | undefined;
  let joiningInBackground: Promise<void> | undefined;
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
    platformMetrics.consumerLag.set({ group: options.groupId, topic: payload.topic, partition: String(payload.partition) }, Number(payload.offsetLag)),
  );

  /** Connects, subscribes and runs; resolves once the group has assigned this member its partitions. */
  async function joinGroup(): Promise<void> {
    // Where a group without committed offsets starts, when told to start at the end: the
    // high watermarks read now, before connecting, so nothing produced after this began is skipped.
    const ends = options.startAt === "end" ? await uncommittedEnds(options.kafka, options.groupId, options.topics) : new Map<string, string>();
    let removeJoinListener = () => {};
    let timer: NodeJS.Timeout | undefined;
    const joined = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`consumer group ${options.groupId} did not join within 30 s`)), 30_000);
      removeJoinListener = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        clearTimeout(timer);
        removeJoinListener();
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const logical = options.topics.find((name) => topic === name || topic.endsWith(`.${name}`) || topic.endsWith(name)) ?? topic;
            const offset = ends.get(`${logical}:${partition}`);
            // Seek takes the broker's (prefixed) topic name, as the assignment reports it.
            if (offset !== undefined) consumer.seek({ topic, partition, offset });
          }
        }
        resolve();
      });
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics, fromBeginning: options.startAt !== "end" });
      await consumer.run({
        autoCommit: true,
        partitionsConsumedConcurrently: 3,
        eachMessage: async ({ topic, partition, message, heartbeat }) => process(topic, partition, message, heartbeat),
      });
      await joined;
    } catch (err) {
      clearTimeout(timer);
      removeJoinListener();
      joined.catch(() => undefined);
      throw err;
    }
    joinedGroup = true;
  }

  /** Retries the join until it succeeds or the consumer stops (the broker was away at start). */
  async function joinWhenBrokerReturns(): Promise<void> {
    const backoff = retry(
      handleWhen(() => !stopping),
      { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ExponentialBackoff({ initialDelay: 500, maxDelay: 5_000 }) },
    );
    backoff.onRetry((reason) =>
      logger.warn({ group: options.groupId, err: "error" in reason ? describe(reason.error) : undefined }, "consumer could not join its group yet; retrying"),
    );
    await backoff
      .execute(async () => {
        if (stopping) return;
        try {
          await joinGroup();
        } catch (err) {
          await consumer.disconnect().catch(() => undefined);
          throw err;
        }
      })
      .then(() => {
        if (joinedGroup) logger.info({ group: options.groupId }, "consumer joined its group; events flow again");
      })
      .catch(() => undefined);
  }

  return {
    consumer,
    /**
     * Connects and resolves once the group has assigned this member its partitions. With the
     * broker unreachable it resolves at once and joins in the background: the service serves
     * (its own events wait in the outbox) rather than crash-looping through a broker outage.
     */
    async start() {
      // Read at most every 10 s, however often Prometheus scrapes: each read is an admin connection.
      let read: { at: number; sizes: Promise<Map<string, number>> } | undefined;
      untrackDeadLetters = platformMetrics.trackDeadLetters(options.groupId, () => {
        if (!read || Date.now() - read.at > 10_000) read = { at: Date.now(), sizes: deadLetterSizes(options.kafka, options.topics) };
        return read.sizes;
      });
      if (!(await brokerAnswers(options.kafka))) {
        logger.warn({ group: options.groupId }, "Kafka is unreachable: starting without the event consumer, which joins its group when the broker is back");
        joiningInBackground = joinWhenBrokerReturns();
        return;
      }
      await joinGroup();
    },
    readiness: {
      name: "kafka-consumer",
      critical: false,
      check: async () => {
        if (!joinedGroup) throw new Error(`consumer group ${options.groupId} has not joined yet`);
      },
    },
    async stop() {
      stopping = true;
      untrackDeadLetters?.();
      await consumer.disconnect();
      if (joiningInBackground) {
        // An attempt under way when stop began may have connected after that disconnect.
        await joiningInBackground;
        await consumer.disconnect();
      }
    },
  };
}

/** Messages in the dead-letter twin of each topic (high minus low watermark), by dead-letter topic. */
async function deadLetterSizes(kafka: Kafka, topics: string[]): Promise<Map<string, number>> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  const sizes = new Map<string, number>();
  try {
    await admin.connect();
    for (const topic of topics) {
      const dlq = deadLetterTopic(topic);
      const offsets = await admin.fetchTopicOffsets(dlq).catch(() => undefined);
      if (offsets)
        sizes.set(
          dlq,
          offsets.reduce((total, o) => total + Number(BigInt(o.high) - BigInt(o.low)), 0),
        );
    }
    return sizes;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** One metadata round trip with no retries: whether the broker answers right now. */
async function brokerAnswers(kafka: Kafka): Promise<boolean> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * High watermarks (`topic:partition` -> offset) of the partitions on which `groupId` has no
 * committed offset. Read-only admin calls: committing through the admin API would join the
 * group once per topic, which costs seconds each.
 */
async function uncommittedEnds(kafka: Kafka, groupId: string, topics: string[]): Promise<Map<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics });
    const ends = new Map<string, string>();
    for (const topic of topics) {
      const done = new Set(
        committed
          .find((entry) => entry.topic === topic)
          ?.partitions.filter((partition) => partition.offset !== "-1")
          .map((partition) => partition.partition) ?? [],
      );
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        if (!done.has(partition)) ends.set(`${topic}:${partition}`, high);
      }
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}
