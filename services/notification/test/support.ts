import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import mysql from "mysql2/promise";
import { NotificationService } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { cloudEventHeaders, deadLetterTopic, decodeEvent, encodeEvent, headerString, newEventId } from "@shopmesh/platform";
import {
  connectClient,
  createTestTokens,
  dropDatabase,
  eventually,
  grpcClient,
  TEST_KAFKA_BROKERS,
  TEST_MYSQL,
  testDatabaseName,
  testLogger,
} from "@shopmesh/platform/testing";
import { buildNotification, CONSUMED_TOPICS, type NotificationApp, type NotificationOverrides } from "../src/app.js";
import { loadNotificationConfig } from "../src/config.js";

export const MAILPIT_URL = process.env["MAILPIT_URL"] ?? `http://127.0.0.1:${process.env["MAILPIT_UI_PORT"] ?? 8025}`;

export const newId = (): string => randomUUID();

/** An address no other test (or test run) uses, so Mailpit searches see only this test's mail. */
export const uniqueAddress = (tag: string): string => `${tag}-${randomBytes(5).toString("hex")}@shopmesh.test`;

export async function expectCode(promise: Promise<unknown>, code: Code): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    const connectError = ConnectError.from(err);
    expect(Code[connectError.code]).toBe(Code[code]);
    return connectError;
  }
  throw new Error(`expected ${Code[code]}, but the call succeeded`);
}

function kafka(): Kafka {
  return new Kafka({ clientId: "notification-test", brokers: TEST_KAFKA_BROKERS.split(","), logLevel: logLevel.NOTHING });
}

/**
 * Points a fresh consumer group at the current end of every consumed topic, so the service
 * under test sees only the events this test file publishes, not the topics' whole history.
 * One short-lived member joins, seeks every partition to its end (committed, as autoCommit is
 * on) and leaves: one group join instead of one per topic as admin.setOffsets would need.
 */
async function startGroupAtEnd(groupId: string): Promise<void> {
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  const ends = await Promise.all(CONSUMED_TOPICS.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))).finally(() =>
    admin.disconnect(),
  );
  const consumer = client.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: CONSUMED_TOPICS, fromBeginning: true });
    const fetched = new Promise((resolve) => consumer.on(consumer.events.FETCH, resolve));
    await consumer.run({ autoCommit: true, eachBatchAutoResolve: false, eachBatch: async () => undefined });
    consumer.pause(CONSUMED_TOPICS.map((topic) => ({ topic })));
    for (const { topic, offsets } of ends) {
      for (const { partition, offset } of offsets) consumer.seek({ topic, partition, offset });
    }
    await fetched;
  } finally {
    await consumer.disconnect();
  }
}

async function deleteGroup(groupId: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** A TCP port nothing listens on (bound once by us, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real notification server on port 0 in its own database and consumer group, with an admin,
 * a customer and an internal (gRPC) caller.
 */
export async function startNotification(env: Record<string, string> = {}, overrides: NotificationOverrides = {}) {
  const database = testDatabaseName("notification");
  const groupId = `shopmesh.notification.test-${randomBytes(4).toString("hex")}`;
  if (overrides.consumeEvents !== false) await startGroupAtEnd(groupId);
  const tokens = await createTestTokens();
  const config = loadNotificationConfig({
    ...process.env,
    NODE_ENV: "test",
    NOTIFICATION_DATABASE: database,
    NOTIFICATION_CONSUMER_GROUP: groupId,
    NOTIFICATION_POLL_INTERVAL_MS: "100",
    ...env,
  });
  const app: NotificationApp = await buildNotification(config, testLogger("notification"), { verifier: tokens.verifier, ...overrides });
  const port = await app.server.listen(0, "127.0.0.1");
  const internal = grpcClient(NotificationService, port);
  return {
    app,
    port,
    database,
    admin: connectClient(NotificationService, port, { token: await tokens.token(newId(), ["customer", "admin"]) }),
    customer: connectClient(NotificationService, port, { token: await tokens.token(newId(), ["customer"]) }),
    /** Another service on the mesh (gRPC): the only way to reach Notify. */
    internal,
    /** Anyone through the edge (Connect), no token. */
    anonymous: connectClient(NotificationService, port),
    async stop() {
      internal.close();
      await app.server.shutdown(1_000);
      for (const closer of app.closers) await closer.close();
      await dropDatabase(database);
      if (overrides.consumeEvents !== false) await deleteGroup(groupId);
    },
  };
}

export type RunningNotification = Awaited<ReturnType<typeof startNotification>>;

/** Publishes events the way the other services' outbox relays do: protobuf payload, CloudEvents headers. */
export async function createEventPublisher() {
  const producer: Producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    /** Sends one event; returns its id. Pass `id` to redeliver an event already sent. */
    async publish<D extends DescMessage>(topic: string, schema: D, key: string, event: MessageShape<D>, id = newEventId()): Promise<string> {
      const payload = encodeEvent(schema, event);
      const headers = cloudEventHeaders({ id, type: schema.typeName, source: "/shopmesh/notification-test", time: new Date().toISOString(), key, payload });
      await producer.send({ topic, acks: -1, messages: [{ key, value: Buffer.from(payload), headers }] });
      return id;
    },
    close: () => producer.disconnect(),
  };
}

export async function query<T extends mysql.RowDataPacket>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const connection = await mysql.createConnection({ ...TEST_MYSQL, database });
  try {
    const [rows] = await connection.query<T[]>(sql, params);
    return rows;
  } finally {
    await connection.end();
  }
}

/** Events of one type and key recorded in the outbox, oldest first. */
export async function outboxEvents<D extends DescMessage>(database: string, schema: D, key: string): Promise<Array<MessageShape<D>>> {
  const rows = await query<mysql.RowDataPacket>(database, "SELECT payload FROM outbox WHERE event_type = ? AND event_key = ? ORDER BY id", [
    schema.typeName,
    key,
  ]);
  return rows.map((row) => decodeEvent(schema, row["payload"] as Buffer));
}

export interface MailSummary {
  ID: string;
  Subject: string;
  To: Array<{ Address: string }>;
}

/** Messages Mailpit holds for one recipient, newest first. */
export async function mailTo(address: string): Promise<MailSummary[]> {
  const response = await fetch(`${MAILPIT_URL}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}&limit=50`);
  if (!response.ok) throw new Error(`Mailpit search failed: ${response.status}`);
  const body = (await response.json()) as { messages: MailSummary[] };
  // The search matches substrings; keep exact recipients only.
  return body.messages.filter((message) => message.To.some((to) => to.Address.toLowerCase() === address.toLowerCase()));
}

/** One message in full: its HTML body and headers. */
export async function mailMessage(id: string): Promise<{ Subject: string; HTML: string; Text: string; From: { Address: string; Name: string } }> {
  const response = await fetch(`${MAILPIT_URL}/api/v1/message/${id}`);
  if (!response.ok) throw new Error(`Mailpit message failed: ${response.status}`);
  return (await response.json()) as { Subject: string; HTML: string; Text: string; From: { Address: string; Name: string } };
}

/** Waits for an event on `<topic>.dlq` and returns the error the consumer recorded with it. */
export async function deadLetterError(topic: string, eventId: string): Promise<string> {
  const consumer = kafka().consumer({ groupId: `notification-test-dlq-${randomBytes(4).toString("hex")}` });
  let error: string | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: deadLetterTopic(topic), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (headerString(message.headers, "ce_id") === eventId) error = headerString(message.headers, "dlq_error") ?? "";
      },
    });
    return await eventually(async () => error, { timeoutMs: 25_000, what: `event ${eventId} on ${deadLetterTopic(topic)}` });
  } finally {
    await consumer.disconnect();
  }
}
