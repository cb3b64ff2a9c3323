import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { RowDataPacket } from "mysql2/promise";
import { NotificationFailedSchema, NotificationSentSchema } from "@shopmesh/gen/shopmesh/events/v1/notification_events_pb.js";
import { Channel, NotificationStatus, TemplateSchema } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { expectCode } from "@shopmesh/platform/testing";
import {
  buildNotify,
  mailMessage,
  mailTo,
  newId,
  outboxEvents,
  query,
  settledNotification,
  startNotification,
  uniqueAddress,
  type RunningNotification,
} from "./support.js";

let service: RunningNotification;

beforeAll(async () => {
  service = await startNotification({}, { consumeEvents: false });
});

afterAll(async () => {
  await service.stop();
});

const statusOnceFinal = (notificationId: string) => settledNotification(service, notificationId);

describe("Notify (internal, over gRPC)", () => {
  test("when a notification is requested, then it returns at once QUEUED and the email is then sent", async () => {
    const request = buildNotify();
    const { notification } = await service.internal.notify(request);
    expect(notification?.status).toBe(NotificationStatus.QUEUED);
    expect(notification?.attempts).toBe(0);

    const final = await statusOnceFinal(notification!.id);
    expect(final.status).toBe(NotificationStatus.SENT);
    expect(final.attempts).toBe(1);
    expect(final.sentTime).toBeDefined();
    const mail = await mailTo(request.recipient);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.Subject).toBe("Welcome to shopmesh, Nora");
    const [sent] = await outboxEvents(service.database, NotificationSentSchema, notification!.id);
    expect(sent).toMatchObject({ notificationId: notification!.id, channel: Channel.EMAIL, templateKey: "user.welcome", attempts: 1 });
  });

  test("when the same idempotency key is used again, then the first notification is returned and one email is sent", async () => {
    const request = buildNotify();
    const first = await service.internal.notify(request);
    const again = await service.internal.notify({ ...request, data: { name: "Someone Else", email: "x@y.test" } });
    expect(again.notification?.id).toBe(first.notification?.id);
    await statusOnceFinal(first.notification!.id);

    const third = await service.internal.notify(request);
    expect(third.notification?.id).toBe(first.notification?.id);
    expect(third.notification?.status).toBe(NotificationStatus.SENT);
    // Nothing else was queued for the recipient: no second email can still be on its way.
    const queued = await query<RowDataPacket>(service.database, "SELECT id FROM notifications WHERE recipient = ?", [request.recipient]);
    expect(queued.map((row) => row["id"] as string)).toEqual([first.notification!.id]);
    const mail = await mailTo(request.recipient);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.Subject).toBe("Welcome to shopmesh, Nora");
  });

  test("when the template lacks a variable's value, then the notification is dead-lettered and nothing is sent", async () => {
    const request = buildNotify({ data: { email: "only-email@shopmesh.test" } });
    const { notification } = await service.internal.notify(request);

    const final = await statusOnceFinal(notification!.id);
    expect(final.status).toBe(NotificationStatus.DEAD_LETTERED);
    expect(final.attempts).toBe(1);
    expect(final.lastError).toContain("name");
    expect(await mailTo(request.recipient)).toHaveLength(0);
    const failures = await outboxEvents(service.database, NotificationFailedSchema, notification!.id);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ deadLettered: true, attempts: 1, templateKey: "user.welcome" });
  });

  test("when the template does not exist, then NOT_FOUND; when it is for another channel, then FAILED_PRECONDITION", async () => {
    await expectCode(service.internal.notify(buildNotify({ templateKey: "no.such-template" })), Code.NotFound);
    await expectCode(service.internal.notify(buildNotify({ channel: Channel.SMS, recipient: "+4915112345678" })), Code.FailedPrecondition);
  });

  test("when the recipient does not fit the channel, then INVALID_ARGUMENT", async () => {
    await expectCode(service.internal.notify(buildNotify({ recipient: "not-an-email" })), Code.InvalidArgument);
    await expectCode(service.internal.notify(buildNotify({ channel: Channel.SMS, recipient: "12345" })), Code.InvalidArgument);
  });

  test("when called through the edge (Connect), then PERMISSION_DENIED: Notify is internal", async () => {
    await expectCode(service.admin.notify(buildNotify()), Code.PermissionDenied);
  });
});

describe("SMS through the provider adapter", () => {
  test("when an SMS is requested, then the rendered text (not HTML-escaped) lands in the sink", async () => {
    const key = `sms.code-${newId().slice(0, 8)}`;
    await service.admin.upsertTemplate({
      template: create(TemplateSchema, { key, channel: Channel.SMS, body: "Your shopmesh code is {{code}} & valid for {{minutes}} min" }),
    });
    const recipient = `+49151${Math.floor(Math.random() * 1e7)
      .toString()
      .padStart(7, "0")}`;
    const { notification } = await service.internal.notify({
      channel: Channel.SMS,
      recipient,
      templateKey: key,
      data: { code: "<1234>", minutes: "10" },
      idempotencyKey: `sms-${newId()}`,
    });

    const final = await statusOnceFinal(notification!.id);
    expect(final.status).toBe(NotificationStatus.SENT);
    const rows = await query<RowDataPacket>(service.database, "SELECT recipient, body FROM sms_sink WHERE notification_id = ?", [notification!.id]);
    expect(rows).toEqual([{ recipient, body: "Your shopmesh code is <1234> & valid for 10 min" }]);
  });
});

describe("admin RPCs", () => {
  test("when a customer lists notifications, then PERMISSION_DENIED; anonymous gets UNAUTHENTICATED", async () => {
    await expectCode(service.customer.listNotifications({}), Code.PermissionDenied);
    await expectCode(service.anonymous.listNotifications({}), Code.Unauthenticated);
    await expectCode(service.customer.getNotification({ notificationId: newId() }), Code.PermissionDenied);
    await expectCode(service.customer.listTemplates({}), Code.PermissionDenied);
  });

  test("an admin pages through a recipient's notifications, newest first", async () => {
    const recipient = uniqueAddress("paged");
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const { notification } = await service.internal.notify(buildNotify({ recipient }));
      ids.push(notification!.id);
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await service.admin.listNotifications({ recipient, pageSize: 2, pageToken });
      expect(page.notifications.length).toBeLessThanOrEqual(2);
      seen.push(...page.notifications.map((notification) => notification.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...ids].reverse());
    await expectCode(service.admin.listNotifications({ pageToken: "garbage" }), Code.InvalidArgument);
  });

  test("an admin filters notifications by status", async () => {
    const { notification } = await service.internal.notify(buildNotify({ data: {} }));
    await statusOnceFinal(notification!.id);
    const page = await service.admin.listNotifications({ status: NotificationStatus.DEAD_LETTERED, pageSize: 100 });
    expect(page.notifications.map((item) => item.id)).toContain(notification!.id);
    expect(page.notifications.every((item) => item.status === NotificationStatus.DEAD_LETTERED)).toBe(true);
  });

  test("GetNotification of an unknown id is NOT_FOUND", async () => {
    await expectCode(service.admin.getNotification({ notificationId: newId() }), Code.NotFound);
  });

  test("the seeded templates are listed by key, and an upsert replaces a template's text", async () => {
    const { templates } = await service.admin.listTemplates({ channel: Channel.EMAIL });
    expect(templates.map((template) => template.key)).toEqual(
      expect.arrayContaining([
        "delivery.assigned",
        "delivery.delivered",
        "delivery.shipped",
        "order.cancelled",
        "order.placed",
        "payment.failed",
        "payment.refunded",
        "payment.succeeded",
        "stock.low",
        "user.welcome",
      ]),
    );
    const keys = templates.map((template) => template.key);
    expect(keys).toEqual([...keys].sort());

    const key = `custom.greeting-${newId().slice(0, 8)}`;
    await service.admin.upsertTemplate({ template: create(TemplateSchema, { key, channel: Channel.EMAIL, subject: "Hello {{name}}", body: "<p>v1</p>" }) });
    const { template } = await service.admin.upsertTemplate({
      template: create(TemplateSchema, { key, channel: Channel.EMAIL, subject: "Hello again {{name}}", body: "<p>v2 {{name}}</p>" }),
    });
    expect(template).toMatchObject({ key, subject: "Hello again {{name}}", body: "<p>v2 {{name}}</p>" });

    const request = buildNotify({ templateKey: key, data: { name: "Vera" } });
    const { notification } = await service.internal.notify(request);
    expect((await statusOnceFinal(notification!.id)).status).toBe(NotificationStatus.SENT);
    const [mail] = await mailTo(request.recipient);
    expect(mail!.Subject).toBe("Hello again Vera");
    expect((await mailMessage(mail!.ID)).HTML).toContain("<p>v2 Vera</p>");
  });

  test("when an email template has no subject or an SMS template has one, then INVALID_ARGUMENT", async () => {
    await expectCode(
      service.admin.upsertTemplate({ template: create(TemplateSchema, { key: "bad.email", channel: Channel.EMAIL, subject: " ", body: "x" }) }),
      Code.InvalidArgument,
    );
    await expectCode(
      service.admin.upsertTemplate({ template: create(TemplateSchema, { key: "bad.sms", channel: Channel.SMS, subject: "no", body: "x" }) }),
      Code.InvalidArgument,
    );
    await expectCode(
      service.customer.upsertTemplate({ template: create(TemplateSchema, { key: "bad.role", channel: Channel.SMS, body: "x" }) }),
      Code.PermissionDenied,
    );
  });
});
