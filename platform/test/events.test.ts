import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { StockLowSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import {
  appendToOutbox,
  createEventConsumer,
  createIdempotentProducer,
  createKafka,
  createMysqlPool,
  createOutboxRelay,
  deadLetterTopic,
  headerString,
  listDeadLetters,
  migrateOutbox,
  migrateProcessedEvents,
  on,
  replayDeadLetters,
  startEventPublishing,
  withTransaction,
  type Pool,
  type RowDataPacket,
} from "@shopmesh/platform/data";
import {
  createProxy,
  createTopicsWithLeaders,
  currentTestNamespace,
  dropDatabase,
  eventually,
  TEST_KAFKA_BROKERS,
  TEST_MYSQL,
  testDatabaseName,
  testGroupId,
  testKafka,
  testLogger,
} from "@shopmesh/platform/testing";

const logger = testLogger("platform-events");
/** Not a declared topic: the file creates it, inside its namespace. */
const topic = "shopmesh.platform-test.v1";
const database = testDatabaseName("platform");
const kafka = testKafka("platform-test");
let pool: Pool;

const buildStockLow = (productId: string) => create(StockLowSchema, { productId, occurredTime: timestampNow(), available: 1, threshold: 5 });

/** Every message on the test topic so far: ce_id and key. */
async function readTopic(): Promise<Array<{ id: string | undefined; key: string | undefined; traceparent: string | undefined }>> {
  const seen: Array<{ id: string | undefined; key: string | undefined; traceparent: string | undefined }> = [];
  const reader = testKafka("platform-test-reader");
  const admin = reader.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((sum, end) => sum + Number(end.high), 0);
  if (total === 0) return seen;
  const consumer = reader.consumer({ groupId: testGroupId(`reader-${randomBytes(4).toString("hex")}`) });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ id: headerString(message.headers, "ce_id"), key: message.key?.toString(), traceparent: headerString(message.headers, "traceparent") });
    },
  });
  await eventually(async () => (seen.length >= total ? true : undefined), { what: "whole test topic read" });
  await consumer.disconnect();
  return seen;
}

async function appendEvents(count: number, prefix: string): Promise<string[]> {
  return withTransaction(pool, async (connection) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++)
      ids.push(await appendToOutbox(connection, { topic, key: `${prefix}-${i % 3}`, schema: StockLowSchema, event: buildStockLow(`${prefix}-${i}`) }));
    return ids;
  });
}

beforeAll(async () => {
  // The run's teardown deletes them with the rest of the namespace.
  await createTopicsWithLeaders(TEST_KAFKA_BROKERS, currentTestNamespace().topicPrefix, [
    { topic, numPartitions: 3 },
    { topic: deadLetterTopic(topic), numPartitions: 1 },
  ]);
  pool = await createMysqlPool({ ...TEST_MYSQL, database, poolSize: 10 });
  await migrateOutbox(pool, logger);
  await migrateProcessedEvents(pool, logger);
  await pool.query("CREATE TABLE effects (event_id CHAR(36) PRIMARY KEY, product_id VARCHAR(64) NOT NULL)");
});

afterAll(async () => {
  await pool?.end();
  await dropDatabase(database);
});

describe("transactional outbox and relay", () => {
  test("rows of a rolled-back transaction are never published; committed ones are published once each", async () => {
    await expect(
      withTransaction(pool, async (connection) => {
        await appendToOutbox(connection, { topic, key: "rolled-back", schema: StockLowSchema, event: buildStockLow("rolled-back") });
        throw new Error("business rule failed after the outbox write");
      }),
    ).rejects.toThrow();
    const committed = await appendEvents(5, "committed");

    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    const relay = createOutboxRelay({ pool, producer, logger, source: "/shopmesh/platform-test" });
    expect(await relay.drainOnce()).toBe(5);
    expect(await relay.drainOnce()).toBe(0);
    await relay.stop();
    await producer.disconnect();

    const messages = await readTopic();
    expect(messages.filter((m) => m.key === "rolled-back")).toHaveLength(0);
    for (const id of committed) expect(messages.filter((m) => m.id === id)).toHaveLength(1);
  });

  test("when the relay dies between commit and publish, the next relay publishes every event exactly once", async () => {
    // The state change committed while no relay was running: exactly the crash window.
    const ids = await appendEvents(20, "crash");
    const producers = [createIdempotentProducer(kafka), createIdempotentProducer(kafka)];
    await Promise.all(producers.map((producer) => producer.connect()));
    // Two replicas start at once after the restart; only one may publish each row.
    const relays = producers.map((producer) => createOutboxRelay({ pool, producer, logger, source: "/shopmesh/platform-test", pollIntervalMs: 20 }));
    relays.forEach((relay) => relay.start());
    await eventually(async () => {
      const [rows] = await pool.query<Array<{ n: number } & RowDataPacket>>("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL");
      return Number(rows[0]!.n) === 0 ? true : undefined;
    });
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(producers.map((producer) => producer.disconnect()));

    const messages = await readTopic();
    for (const id of ids) expect(messages.filter((m) => m.id === id)).toHaveLength(1);
  });
});

describe("idempotent consumer, retries and dead letters", () => {
  test("a redelivered event has no second effect; a poison event is dead-lettered after N tries and applies once replayed after the fix", async () => {
    let broken = true;
    const attempts = new Map<string, number>();
    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    const consumer = createEventConsumer({
      kafka,
      pool,
      logger,
      producer,
      groupId: testGroupId("shopmesh.platform-test"),
      topics: [topic],
      startAt: "end",
      maxAttempts: 3,
      initialBackoffMs: 20,
      handlers: [
        on(StockLowSchema, async (event, meta, connection) => {
          attempts.set(event.productId, (attempts.get(event.productId) ?? 0) + 1);
          if (event.productId === "poison" && broken) throw new Error("downstream rejects this product");
          await connection.execute("INSERT INTO effects (event_id, product_id) VALUES (?, ?)", [meta.id, event.productId]);
        }),
      ],
    });
    await consumer.start();
    let relay: ReturnType<typeof createOutboxRelay> | undefined;
    try {
      const [goodId] = await appendEvents(1, "good");
      const poisonId = await withTransaction(pool, (connection) =>
        appendToOutbox(connection, { topic, key: "poison", schema: StockLowSchema, event: buildStockLow("poison") }),
      );
      relay = createOutboxRelay({ pool, producer, logger, source: "/shopmesh/platform-test" });
      await relay.drainOnce();
      // Redeliver the good event: same ce_id, as Kafka would after a rebalance.
      await pool.query("UPDATE outbox SET published_at = NULL WHERE id = ?", [goodId]);
      await relay.drainOnce();
      // Then a marker with the same key (same partition, so consumed after the copy).
      await withTransaction(pool, (connection) => appendToOutbox(connection, { topic, key: "good-0", schema: StockLowSchema, event: buildStockLow("marker") }));
      await relay.drainOnce();

      const effectsOf = async (productId: string) => {
        const [rows] = await pool.query<Array<{ n: number } & RowDataPacket>>("SELECT COUNT(*) AS n FROM effects WHERE product_id = ?", [productId]);
        return Number(rows[0]!.n);
      };
      await eventually(async () => ((await effectsOf("marker")) === 1 ? true : undefined), { what: "the marker after the redelivered copy applied" });
      expect(attempts.get("good-0")).toBe(1);
      expect(await effectsOf("good-0")).toBe(1);
      const dead = await eventually(
        async () => {
          const letters = await listDeadLetters(kafka, topic);
          return letters.find((letter) => letter.eventId === poisonId);
        },
        { timeoutMs: 20_000, what: "poison event in the DLQ" },
      );
      expect(dead.attempts).toBe(3);
      expect(dead.error).toContain("downstream rejects this product");
      expect(attempts.get("poison")).toBe(3);
      expect(await effectsOf("poison")).toBe(0);

      broken = false;
      expect(await replayDeadLetters(kafka, topic, { eventId: poisonId })).toEqual([poisonId]);
      await eventually(async () => ((await effectsOf("poison")) === 1 ? true : undefined), { what: "replayed event applied" });
    } finally {
      // The relay holds the database's relay lock until stopped.
      await relay?.stop();
      await consumer.stop();
      await producer.disconnect();
    }
  });
});

describe("consumer and an unreachable database", () => {
  test("the database away for longer than the retry budget: the consumer waits for it, applies the event once and dead-letters nothing", async () => {
    const proxy = await createProxy("platform-mysql", `${TEST_MYSQL.host}:${TEST_MYSQL.port}`);
    const throughProxy = await createMysqlPool({ ...TEST_MYSQL, host: "127.0.0.1", port: proxy.port, database, poolSize: 2 });
    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    let retries = 0;
    const consumer = createEventConsumer({
      kafka,
      pool: throughProxy,
      logger,
      producer,
      groupId: testGroupId("shopmesh.platform-test.outage"),
      topics: [topic],
      startAt: "end",
      maxAttempts: 3,
      initialBackoffMs: 20,
      onRetry: () => void retries++,
      handlers: [
        on(StockLowSchema, async (event, meta, connection) => {
          await connection.execute("INSERT INTO effects (event_id, product_id) VALUES (?, ?)", [meta.id, event.productId]);
        }),
      ],
    });
    await consumer.start();
    try {
      await proxy.cut();
      const [eventId] = await appendEvents(1, "outage");
      const relay = createOutboxRelay({ pool, producer, logger, source: "/shopmesh/platform-test" });
      expect(await relay.drainOnce()).toBe(1);
      await relay.stop();
      // Well past the 3 attempts a failing handler gets: an outage must not spend them.
      await eventually(async () => (retries >= 6 ? true : undefined), { what: "the consumer retrying through the outage" });
      await proxy.heal();
      const effects = async () => {
        const [rows] = await pool.query<Array<{ n: number } & RowDataPacket>>("SELECT COUNT(*) AS n FROM effects WHERE event_id = ?", [eventId]);
        return Number(rows[0]!.n);
      };
      await eventually(async () => ((await effects()) === 1 ? true : undefined), { timeoutMs: 20_000, what: "the event applied once the database is back" });
      expect((await listDeadLetters(kafka, topic)).filter((letter) => letter.eventId === eventId)).toEqual([]);
    } finally {
      await consumer.stop();
      await producer.disconnect();
      await throughProxy.end();
      await proxy.remove();
    }
  });
});

describe("Kafka unreachable when a service starts", () => {
  test("publishing and the consumer start anyway (degraded); once the broker is reachable the event is published and applied once", async () => {
    const proxy = await createProxy("platform-kafka", TEST_KAFKA_BROKERS.split(",")[0]!);
    await proxy.cut();
    const brokers = `127.0.0.1:${proxy.port}`;
    const publishing = await startEventPublishing(
      { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: currentTestNamespace().topicPrefix, OUTBOX_RELAY_ENABLED: "true" },
      { service: "platform-test", pool, logger },
    );
    const consumer = createEventConsumer({
      kafka: createKafka({ brokers, clientId: "platform-test-late", logger, topicPrefix: currentTestNamespace().topicPrefix }),
      pool,
      logger,
      producer: publishing.producer,
      groupId: testGroupId("shopmesh.platform-test.late-broker"),
      topics: [topic],
      // From the topic's beginning, as a new service's group starts: the earlier tests' events are not this test's.
      handlers: [
        on(StockLowSchema, async (event, meta, connection) => {
          if (!event.productId.startsWith("late-broker")) return;
          await connection.execute("INSERT INTO effects (event_id, product_id) VALUES (?, ?)", [meta.id, event.productId]);
        }),
      ],
    });
    try {
      await consumer.start();
      await expect(consumer.readiness.check()).rejects.toThrow(/has not joined/);
      const [eventId] = await appendEvents(1, "late-broker");
      await proxy.heal();
      const effects = async () => {
        const [rows] = await pool.query<Array<{ n: number } & RowDataPacket>>("SELECT COUNT(*) AS n FROM effects WHERE event_id = ?", [eventId]);
        return Number(rows[0]!.n);
      };
      await eventually(async () => ((await effects()) === 1 ? true : undefined), {
        timeoutMs: 60_000,
        what: "the event published and applied once the broker is back",
      });
      await consumer.readiness.check();
      expect((await readTopic()).filter((message) => message.id === eventId)).toHaveLength(1);
    } finally {
      await consumer.stop();
      await publishing.close();
      await proxy.remove();
    }
  }, 90_000);
});
