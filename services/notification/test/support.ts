import { randomBytes, randomUUID } from "node:crypto";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Partitioners, type Producer } from "kafkajs";
import mysql from "mysql2/promise";
import { Channel, NotificationService, NotificationStatus } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { cloudEventHeaders, deadLetterTopic, decodeEvent, encodeEvent, headerString, newEventId } from "@shopmesh/platform/data";
import {
  connectClient,
  createTestTokens,
  dropDatabase,
  eventually,
  grpcClient,
  TEST_MYSQL,
  testDatabaseName,
  testGroupId,
  testKafka,
  testLogger,
} from "@shopmesh/platform/testing";
import { buildNotification, type NotificationApp, type NotificationOverrides } from "../src/app.js";
import { loadNotificationConfig } from "../src/config.js";

export const MAILPIT_URL = process.env["MAILPIT_URL"] ?? `http://127.0.0.1:${process.env["MAILPIT_UI_PORT"] ?? 8025}`;

export const newId = (): string => randomUUID();

/** An address no other test (or test run) uses, so Mailpit searches see only this test's mail. */
export const uniqueAddress = (tag: string): string => `${tag}-${randomBytes(5).toString("hex")}@shopmesh.test`;

/** A Notify request: a welcome email to a fresh address under a fresh idempotency key. */
export const buildNotify = (
  overrides: Partial<{ channel: Channel; recipient: string; templateKey: string; data: Record<string, string>; idempotencyKey: string }> = {},
) => ({
  channel: Channel.EMAIL,
  recipient: uniqueAddress("notify"),
  templateKey: "user.welcome",
  data: { name: "Nora", email: "nora@shopmesh.test" },
  idempotencyKey: `notify-${newId()}`,
  ...overrides,
});

/** Waits until a notification is SENT or DEAD_LETTERED (no worker touches it again) and returns it. */
export async function settledNotification(service: RunningNotification, notificationId: string) {
  return eventually(
    async () => {
      const { notification } = await service.admin.getNotification({ notificationId });
      return notification!.status === NotificationStatus.SENT || notification!.status === NotificationStatus.DEAD_LETTERED ? notification! : undefined;
    },
    { timeoutMs: 20_000, what: `notification ${notificationId} to be sent or dead-lettered` },
  );
}

/**
 * A real notification server on port 0 in its own database, consuming the test file's own
 * topics (its namespace), with an admin, a customer and an internal (gRPC) caller. With
 * `NOTIFICATION_DATABASE` in `env` it is another replica on that instance's database.
 */
export async function startNotification(env: Record<string, string> = {}, overrides: NotificationOverrides = {}) {
  // A replica passes the database of the instance it joins, and leaves dropping it to that one.
  const replicaOf = env["NOTIFICATION_DATABASE"];
  const database = replicaOf ?? testDatabaseName("notification");
  const tokens = await createTestTokens();
  const config = loadNotificationConfig({
    ...process.env,
    NODE_ENV: "test",
    NOTIFICATION_DATABASE: database,
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
      if (!replicaOf) await dropDatabase(database);
    },
  };
}

export type RunningNotification = Awaited<ReturnType<typeof startNotification>>;

/** Publishes events the way the other services' outbox relays do: protobuf payload, CloudEvents headers. */
export async function createEventPublisher() {
  const producer: Producer = testKafka("notification-test").producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
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
  const consumer = testKafka("notification-test").consumer({ groupId: testGroupId(`notification-test-dlq-${randomBytes(4).toString("hex")}`) });
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
