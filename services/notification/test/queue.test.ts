// The send queue's promises (README, "How a notification travels"), with two replicas on one
// database and a real SMTP server whose replies the tests choose.
import mysql, { type RowDataPacket } from "mysql2/promise";
import { NotificationFailedSchema, NotificationSentSchema } from "@shopmesh/gen/shopmesh/events/v1/notification_events_pb.js";
import { NotificationStatus } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { eventually, TEST_MYSQL } from "@shopmesh/platform/testing";
import { createNotificationStore } from "../src/store/notifications.js";
import { startSmtpFake, type SmtpFake } from "./smtp-fake.js";
import { buildNotify, outboxEvents, query, settledNotification, startNotification, uniqueAddress, type RunningNotification } from "./support.js";

const SENDER = { a: "replica-a@shopmesh.test", b: "replica-b@shopmesh.test" };
const BATCH_SIZE = 3;
const MAX_ATTEMPTS = 3;

/** Recipients tagged `rcpt-550`, `data-554` and `busy-451` meet those replies (451 only at the first attempt). */
const busySeen = new Set<string>();
function smtpReplies(stage: "RCPT" | "DATA", recipient: string): string | undefined {
  if (stage === "RCPT" && recipient.startsWith("rcpt-550-")) return "550 5.1.1 mailbox unavailable";
  if (stage === "DATA" && recipient.startsWith("data-554-")) return "554 5.7.1 message rejected";
  if (stage === "RCPT" && recipient.startsWith("busy-451-") && !busySeen.has(recipient)) {
    busySeen.add(recipient);
    return "451 4.3.2 try again later";
  }
  return undefined;
}

let smtp: SmtpFake;
let replicaA: RunningNotification;
let replicaB: RunningNotification;

beforeAll(async () => {
  smtp = await startSmtpFake(smtpReplies);
  const env = {
    SMTP_PORT: String(smtp.port),
    NOTIFICATION_BATCH_SIZE: String(BATCH_SIZE),
    NOTIFICATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    NOTIFICATION_RETRY_BASE_MS: "200",
  };
  replicaA = await startNotification({ ...env, SMTP_FROM: `replica a <${SENDER.a}>` }, { consumeEvents: false });
  replicaB = await startNotification({ ...env, SMTP_FROM: `replica b <${SENDER.b}>`, NOTIFICATION_DATABASE: replicaA.database }, { consumeEvents: false });
});

afterAll(async () => {
  await replicaB?.stop();
  await replicaA?.stop();
  await smtp?.close();
});

const sendsTo = (recipient: string) => smtp.rcpts.filter((rcpt) => rcpt === recipient).length;

test("when two replicas drain one queue, then every notification is sent exactly once and both replicas send a share", async () => {
  const recipients = Array.from({ length: 4 * BATCH_SIZE }, () => uniqueAddress("shared-queue"));
  const ids: string[] = [];
  smtp.hold();
  try {
    for (const recipient of recipients) ids.push((await replicaA.internal.notify(buildNotify({ recipient }))).notification!.id);
    // A replica's worker sends one message at a time, and its claim (one batch) leaves the rest
    // of the queue to the other: while the server holds its answers, both must be mid-send.
    const held = await eventually(async () => (smtp.held.length === 2 ? smtp.held : undefined), { what: "a send in hand at each replica" });
    expect(held.map((mail) => mail.from).sort()).toEqual([SENDER.a, SENDER.b]);
  } finally {
    smtp.release();
  }

  for (const id of ids) expect(NotificationStatus[(await settledNotification(replicaA, id)).status]).toBe("SENT");
  const rows = await query<RowDataPacket>(replicaA.database, "SELECT status, attempts FROM notifications WHERE id IN (?)", [ids]);
  expect(rows).toEqual(ids.map(() => ({ status: "SENT", attempts: 1 })));
  for (const recipient of recipients) {
    expect(sendsTo(recipient)).toBe(1);
    expect(smtp.accepted(recipient)).toHaveLength(1);
  }
  for (const id of ids) expect(await outboxEvents(replicaA.database, NotificationSentSchema, id)).toHaveLength(1);
  const ours = smtp.mails.filter((mail) => recipients.includes(mail.recipients[0]!));
  const share = (sender: string) => ours.filter((mail) => mail.from === sender).length;
  expect(share(SENDER.a)).toBeGreaterThan(0);
  expect(share(SENDER.b)).toBeGreaterThan(0);
  expect(share(SENDER.a) + share(SENDER.b)).toBe(ids.length);
});

test("when a worker dies holding a claim, then another replica sends the notification once the lease has ended, exactly once", async () => {
  const leaseMs = 1_500;
  const recipient = uniqueAddress("orphaned");
  // The live workers pause so that the doomed one, not they, claims the notification.
  await Promise.all([replicaA.app.workers.email.stop(), replicaB.app.workers.email.stop()]);
  const doomed = mysql.createPool({ ...TEST_MYSQL, database: replicaA.database, connectionLimit: 1 });
  let id: string;
  let beforeClaim: Date;
  try {
    id = (await replicaA.internal.notify(buildNotify({ recipient }))).notification!.id;
    const [now] = await query<RowDataPacket>(replicaA.database, "SELECT CURRENT_TIMESTAMP(3) AS now");
    beforeClaim = now!["now"] as Date;
    const claimed = await createNotificationStore(doomed).claimDue("email", 10, leaseMs);
    expect(claimed.map((notification) => notification.id)).toEqual([id]);
  } finally {
    await doomed.end();
    replicaA.app.workers.email.start();
    replicaB.app.workers.email.start();
  }

  const final = await settledNotification(replicaA, id);
  expect(NotificationStatus[final.status]).toBe("SENT");
  // The dead worker's claim counted as an attempt; the one that sent is the second.
  expect(final.attempts).toBe(2);
  const [row] = await query<RowDataPacket>(replicaA.database, "SELECT sent_at FROM notifications WHERE id = ?", [id]);
  expect((row!["sent_at"] as Date).getTime()).toBeGreaterThanOrEqual(beforeClaim.getTime() + leaseMs);
  expect(sendsTo(recipient)).toBe(1);
  expect(smtp.accepted(recipient)).toHaveLength(1);
});

describe("SMTP replies", () => {
  test.each([
    ["550 to RCPT", "rcpt-550", /^PermanentDeliveryError: SMTP 550/],
    ["554 to DATA", "data-554", /^PermanentDeliveryError: SMTP 554/],
  ])("when the server answers %s, then the notification is dead-lettered after one attempt", async (_reply, tag, error) => {
    const recipient = uniqueAddress(tag);
    const { notification } = await replicaA.internal.notify(buildNotify({ recipient }));

    const final = await settledNotification(replicaA, notification!.id);
    expect(NotificationStatus[final.status]).toBe("DEAD_LETTERED");
    expect(final.attempts).toBe(1);
    expect(final.lastError).toMatch(error);
    expect(sendsTo(recipient)).toBe(1);
    const failures = await outboxEvents(replicaA.database, NotificationFailedSchema, notification!.id);
    expect(failures.map((failure) => [failure.attempts, failure.deadLettered])).toEqual([[1, true]]);
  });

  test("when the server answers 451 (try later), then the notification is retried and sent at the next attempt", async () => {
    const recipient = uniqueAddress("busy-451");
    const { notification } = await replicaA.internal.notify(buildNotify({ recipient }));

    const final = await settledNotification(replicaA, notification!.id);
    expect(NotificationStatus[final.status]).toBe("SENT");
    expect(final.attempts).toBe(2);
    expect(sendsTo(recipient)).toBe(2);
    expect(smtp.accepted(recipient)).toHaveLength(1);
    const failures = await outboxEvents(replicaA.database, NotificationFailedSchema, notification!.id);
    expect(failures.map((failure) => [failure.attempts, failure.deadLettered, failure.error])).toEqual([[1, false, expect.stringMatching(/451/)]]);
  });
});
