import { fileURLToPath } from "node:url";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import {
  ATTR_CLOUDEVENTS_EVENT_ID,
  ATTR_CLOUDEVENTS_EVENT_SOURCE,
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_KAFKA_MESSAGE_KEY,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  MESSAGING_SYSTEM_NAME_VALUE_KAFKA,
} from "@opentelemetry/semantic-conventions/incubating";
import { CompressionTypes, type IHeaders, type Producer } from "kafkajs";
import type { Pool, PoolConnection, RowDataPacket } from "mysql2/promise";
import { createBackgroundLoop } from "../background-loop.js";
import type { Logger } from "../logger.js";
import { runMigrations } from "../db/migrations.js";
import { failpoint, FAILPOINTS } from "../failpoint.js";
import { platformMetrics } from "../metrics.js";
import { publishSpanName } from "../telemetry/schema.js";
import { cloudEventHeaders, currentTraceHeaders, encodeEvent, newEventId, type EventEnvelope } from "./events.js";

const OUTBOX_MIGRATIONS = fileURLToPath(new URL("../../migrations/outbox", import.meta.url));

/** Creates the outbox table in the service's database (its own migration track). */
export async function migrateOutbox(pool: Pool, logger: Logger): Promise<void> {
  await runMigrations(pool, OUTBOX_MIGRATIONS, logger, { table: "platform_outbox_migrations" });
}

export interface OutboxEvent<D extends DescMessage> {
  topic: string;
  /** Aggregate id: the Kafka key, so one aggregate's events stay in order. */
  key: string;
  schema: D;
  event: MessageShape<D>;
}

/**
 * Records an event inside the caller's transaction. It is published only if that
 * transaction commits, and is not lost if the process dies right after the commit.
 * Returns the event id (the CloudEvents `ce_id`).
 */
export async function appendToOutbox<D extends DescMessage>(connection: PoolConnection, item: OutboxEvent<D>): Promise<string> {
  const id = newEventId();
  const trace = currentTraceHeaders();
  await connection.execute("INSERT INTO outbox (id, topic, event_key, event_type, payload, traceparent, tracestate) VALUES (?, ?, ?, ?, ?, ?, ?)", [
    id,
    item.topic,
    item.key,
    item.schema.typeName,
    Buffer.from(encodeEvent(item.schema, item.event)),
    trace.traceparent ?? null,
    trace.tracestate ?? null,
  ]);
  return id;
}

export interface OutboxRelayOptions {
  pool: Pool;
  producer: Producer;
  logger: Logger;
  /** CloudEvents source, e.g. `/shopmesh/identity`. */
  source: string;
  pollIntervalMs?: number;
  batchSize?: number;
}

export interface OutboxRelay {
  start(): void;
  /** Publish soon (call after a commit that wrote outbox rows) instead of waiting for the poll. */
  nudge(): void;
  /** Finishes the batch in hand, then stops. */
  stop(): Promise<void>;
  /** Publishes what is pending now; resolves with the number of events sent. */
  drainOnce(): Promise<number>;
}

interface OutboxRow extends RowDataPacket {
  id: string;
  topic: string;
  event_key: string;
  event_type: string;
  payload: Buffer;
  traceparent: string | null;
  tracestate: string | null;
  created_at: Date;
}

const tracer = trace.getTracer("shopmesh.events");
const headerSetter = { set: (carrier: IHeaders, key: string, value: string) => void (carrier[key] = value) };
const headerGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

/**
 * One PRODUCER span per published event, a child of the trace context stored on the row
 * (the request that caused the event), so the publish joins that request's trace. The
 * span's own context replaces the stored one in the Kafka headers: the consumer's span
 * becomes its child.
 */
function startPublishSpan(row: OutboxRow, headers: IHeaders, source: string): Span {
  const stored: Record<string, string> = {};
  if (row.traceparent) stored["traceparent"] = row.traceparent;
  if (row.tracestate) stored["tracestate"] = row.tracestate;
  const parent = propagation.extract(context.active(), stored, headerGetter);
  const span = tracer.startSpan(
    publishSpanName(row.topic),
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR_MESSAGING_SYSTEM_NAME]: MESSAGING_SYSTEM_NAME_VALUE_KAFKA,
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
        [ATTR_MESSAGING_OPERATION_NAME]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
        [ATTR_MESSAGING_DESTINATION_NAME]: row.topic,
        [ATTR_KAFKA_MESSAGE_KEY]: row.event_key,
        [ATTR_MESSAGING_MESSAGE_ID]: row.id,
        [ATTR_CLOUDEVENTS_EVENT_ID]: row.id,
        [ATTR_CLOUDEVENTS_EVENT_TYPE]: row.event_type,
        [ATTR_CLOUDEVENTS_EVENT_SOURCE]: source,
      },
    },
    parent,
  );
  delete headers["traceparent"];
  delete headers["tracestate"];
  propagation.inject(trace.setSpan(parent, span), headers, headerSetter);
  return span;
}

/**
 * Publishes committed outbox rows to Kafka in id order and marks them published.
 * Only one relay per database publishes at a time (a named MySQL lock), which keeps
 * per-aggregate order and means replicas never publish the same row twice in normal
 * operation; the rows themselves are claimed with FOR UPDATE so a stale lock holder
 * cannot interleave. A crash between send and mark re-sends on restart (at-least-once),
 * which consumers absorb by event id.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, producer, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const batchSize = options.batchSize ?? 200;
  let lockConnection: PoolConnection | undefined;

  async function holdLeadership(): Promise<boolean> {
    if (lockConnection) return true;
    const connection = await pool.getConnection();
    const [rows] = await connection.query<RowDataPacket[]>("SELECT GET_LOCK(CONCAT('shopmesh_outbox_relay_', DATABASE()), 0) AS acquired");
    if (rows[0]?.["acquired"] === 1) {
      lockConnection = connection;
      return true;
    }
    connection.release();
    return false;
  }

  async function publishBatch(): Promise<number> {
    if (!(await holdLeadership())) return 0;
    const connection = lockConnection!;
    // READ COMMITTED takes no gap locks, so services keep inserting outbox rows while a
    // batch is being sent; the named lock already keeps other relays away.
    await connection.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    await connection.beginTransaction();
    try {
      const [rows] = await connection.query<OutboxRow[]>(
        "SELECT id, topic, event_key, event_type, payload, traceparent, tracestate, created_at FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ? FOR UPDATE",
        [batchSize],
      );
      if (rows.length === 0) {
        await connection.commit();
        return 0;
      }
      const byTopic = new Map<string, Array<{ key: string; value: Buffer; headers: ReturnType<typeof cloudEventHeaders> }>>();
      const spans: Span[] = [];
      for (const row of rows) {
        const envelope: EventEnvelope = {
          id: row.id,
          type: row.event_type,
          source: options.source,
          time: row.created_at.toISOString(),
          key: row.event_key,
          payload: row.payload,
          traceparent: row.traceparent ?? undefined,
          tracestate: row.tracestate ?? undefined,
        };
        const headers = cloudEventHeaders(envelope);
        spans.push(startPublishSpan(row, headers, options.source));
        const list = byTopic.get(row.topic) ?? [];
        list.push({ key: row.event_key, value: row.payload, headers });
        byTopic.set(row.topic, list);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      } catch (err) {
        for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        for (const span of spans) span.end();
      }
      // A crash here re-sends the batch on restart: consumers absorb it by event id.
      failpoint(FAILPOINTS.outboxAfterPublish);
      await connection.query("UPDATE outbox SET published_at = CURRENT_TIMESTAMP(3) WHERE id IN (?)", [rows.map((row) => row.id)]);
      await connection.commit();
      const now = Date.now();
      for (const row of rows) {
        platformMetrics.outboxPublished.inc({ topic: row.topic });
        platformMetrics.outboxPublishLatency.observe({ topic: row.topic }, Math.max(0, now - row.created_at.getTime()) / 1000);
      }
      return rows.length;
    } catch (err) {
      await connection.rollback().catch(() => undefined);
      throw err;
    }
  }

  async function countBacklog(): Promise<number> {
    const [rows] = await pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL");
    return Number(rows[0]?.["n"] ?? 0);
  }
  let untrackBacklog: (() => void) | undefined;

  async function drainOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await publishBatch();
      total += sent;
      if (sent < batchSize) return total;
    }
  }

  // A nudge that arrives mid-batch may be for rows the batch's SELECT did not see: the loop
  // runs again right after it rather than waiting out the poll interval.
  const loop = createBackgroundLoop({
    name: "outbox relay",
    intervalMs: pollIntervalMs,
    maxBackoffMs: 2_000,
    logger,
    runOnStart: true,
    round: async () => void (await drainOnce()),
    onError: () => {
      platformMetrics.outboxPublishFailures.inc();
      // A broken lock connection must be replaced, or no relay would ever take over.
      lockConnection?.destroy();
      lockConnection = undefined;
    },
  });

  let started = false;
  return {
    start() {
      if (started) return;
      started = true;
      untrackBacklog = platformMetrics.trackOutboxBacklog(options.source, countBacklog);
      loop.start();
    },
    nudge: () => loop.nudge(),
    drainOnce,
    async stop() {
      started = false;
      untrackBacklog?.();
      await loop.stop();
      if (lockConnection) {
        await lockConnection.query("SELECT RELEASE_LOCK(CONCAT('shopmesh_outbox_relay_', DATABASE()))").catch(() => undefined);
        lockConnection.release();
        lockConnection = undefined;
      }
    },
  };
}
