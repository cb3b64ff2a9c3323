import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { RowDataPacket } from "mysql2/promise";
import { NotificationFailedSchema } from "@shopmesh/gen/shopmesh/events/v1/notification_events_pb.js";
import { Channel, NotificationStatus } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { eventually, freePort } from "@shopmesh/platform/testing";
import { mailTo, newId, outboxEvents, query, startNotification, uniqueAddress, type RunningNotification } from "./support.js";

const RETRY_BASE_MS = 300;
const SMS_RATE_PER_SECOND = 4;
let service: RunningNotification;

beforeAll(async () => {
  // An instance whose SMTP server is away; its SMS channel is rate-limited hard enough to measure.
  service = await startNotification(
    {
      SMTP_PORT: String(await freePort()),
      NOTIFICATION_MAX_ATTEMPTS: "3",
      NOTIFICATION_RETRY_BASE_MS: String(RETRY_BASE_MS),
      SMS_RATE_PER_SECOND: String(SMS_RATE_PER_SECOND),
    },
    { consumeEvents: false },
  );
});

afterAll(async () => {
  await service.stop();
});

test("when the SMTP server is down, then the email is retried with growing delays and dead-lettered after the last attempt", async () => {
  const recipient = uniqueAddress("smtp-down");
  const { notification } = await service.internal.notify({
    channel: Channel.EMAIL,
    recipient,
    templateKey: "user.welcome",
    data: { name: "Dora", email: recipient },
    idempotencyKey: `smtp-down-${newId()}`,
  });
  expect(notification?.status).toBe(NotificationStatus.QUEUED);

  const final = await eventually(
    async () => {
      const found = (await service.admin.getNotification({ notificationId: notification!.id })).notification!;
      return found.status === NotificationStatus.DEAD_LETTERED ? found : undefined;
    },
    { timeoutMs: 20_000, what: "the notification to be dead-lettered" },
  );
  expect(final.attempts).toBe(3);
  expect(final.lastError).toMatch(/ECONNREFUSED|connect/i);

  const failures = await outboxEvents(service.database, NotificationFailedSchema, notification!.id);
  expect(failures.map((failure) => [failure.attempts, failure.deadLettered])).toEqual([
    [1, false],
    [2, false],
    [3, true],
  ]);
  const at = failures.map((failure) => timestampDate(failure.occurredTime!).getTime());
  // Backoff: base after the first failure, twice the base after the second.
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(RETRY_BASE_MS);
  expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2 * RETRY_BASE_MS);
  expect(await mailTo(recipient)).toHaveLength(0);
});

test("when many SMS are queued at once, then the provider sees no more than its rate (token bucket)", async () => {
  await service.admin.upsertTemplate({ template: { key: "sms.burst", channel: Channel.SMS, subject: "", body: "message {{n}}" } });
  const recipient = "+4917000000001";
  const count = 10;
  for (let n = 0; n < count; n++) {
    await service.internal.notify({ channel: Channel.SMS, recipient, templateKey: "sms.burst", data: { n: String(n) }, idempotencyKey: `burst-${newId()}` });
  }

  const rows = await eventually(
    async () => {
      const found = await query<RowDataPacket>(service.database, "SELECT created_at FROM sms_sink WHERE recipient = ? ORDER BY id", [recipient]);
      return found.length === count ? found : undefined;
    },
    { timeoutMs: 20_000, what: `${count} SMS in the sink` },
  );
  const times = rows.map((row) => (row["created_at"] as Date).getTime());
  // A full bucket lets `rate` through at once; the other count - rate wait 1/rate s each.
  const minimumMs = ((count - SMS_RATE_PER_SECOND) / SMS_RATE_PER_SECOND) * 1000;
  expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(minimumMs - 50);
});
