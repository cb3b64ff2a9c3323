import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { RowDataPacket } from "mysql2/promise";
import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryAssignedSchema, DeliveryStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { SignInFailuresDetectedSchema, UserRegisteredSchema } from "@shopmesh/gen/shopmesh/events/v1/identity_events_pb.js";
import { StockLowSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { OrderCancelledSchema, OrderPlacedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { PaymentFailedSchema, PaymentRefundedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { OrderLineSchema } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { eventually } from "@shopmesh/platform/testing";
import {
  createEventPublisher,
  deadLetterError,
  mailMessage,
  mailTo,
  newId,
  query,
  startNotification,
  uniqueAddress,
  type RunningNotification,
} from "./support.js";

const adminA = uniqueAddress("ops");
const adminB = uniqueAddress("ops-second");
let service: RunningNotification;
let events: Awaited<ReturnType<typeof createEventPublisher>>;

const eur = (amountMinor: bigint) => create(MoneySchema, { currency: "EUR", amountMinor });

beforeAll(async () => {
  service = await startNotification({ NOTIFICATION_ADMIN_EMAILS: `${adminA}, ${adminB}` });
  events = await createEventPublisher();
});

afterAll(async () => {
  await events.close();
  await service.stop();
});

/** Waits until `address` has exactly `count` emails, then returns their subjects, oldest first. */
async function subjectsOnceThere(address: string, count: number): Promise<string[]> {
  const messages = await eventually(
    async () => {
      const found = await mailTo(address);
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 25_000, what: `${count} email(s) to ${address}` },
  );
  return messages.map((message) => message.Subject).reverse();
}

async function templateKeysQueuedFor(address: string): Promise<string[]> {
  const rows = await query<RowDataPacket>(service.database, "SELECT template_key FROM notifications WHERE recipient = ? ORDER BY id", [address]);
  return rows.map((row) => row["template_key"] as string);
}

async function register(email: string, displayName = "Jane Shopper"): Promise<string> {
  const userId = newId();
  await events.publish(
    TOPICS.identity,
    UserRegisteredSchema,
    userId,
    create(UserRegisteredSchema, { userId, email, displayName, occurredTime: timestampNow() }),
  );
  return userId;
}

describe("event-driven emails (Kafka -> notification -> Mailpit)", () => {
  test("when a user registers, then a welcome email with their name (HTML-escaped) reaches their inbox", async () => {
    const email = uniqueAddress("welcome");
    await register(email, "Jane <Doe> & Co");

    const [subject] = await subjectsOnceThere(email, 1);
    expect(subject).toBe("Welcome to shopmesh, Jane <Doe> & Co");
    const message = await mailMessage((await mailTo(email))[0]!.ID);
    expect(message.HTML).toContain("Hi Jane &lt;Doe&gt; &amp; Co,");
    expect(message.HTML).not.toContain("<Doe>");
    expect(message.From).toMatchObject({ Address: "no-reply@shopmesh.local", Name: "shopmesh" });
  });

  test("when the same event is delivered twice, then exactly one email is sent", async () => {
    const email = uniqueAddress("redelivered");
    const userId = newId();
    const event = create(UserRegisteredSchema, { userId, email, displayName: "Twice", occurredTime: timestampNow() });
    const eventId = await events.publish(TOPICS.identity, UserRegisteredSchema, userId, event);
    await events.publish(TOPICS.identity, UserRegisteredSchema, userId, event, eventId);
    // A later event for the same user (same key, same partition) is consumed after both copies:
    // once its email is out, the duplicate has had every chance to produce one too.
    const marker = uniqueAddress("redelivered-marker");
    await events.publish(TOPICS.identity, UserRegisteredSchema, userId, create(UserRegisteredSchema, { userId, email: marker, displayName: "Marker" }));
    await subjectsOnceThere(marker, 1);

    expect(await mailTo(email)).toHaveLength(1);
    expect(await templateKeysQueuedFor(email)).toEqual(["user.welcome"]);
  });

  test("when many sign-ins to an account fail, then its owner gets one email saying how many, from how many addresses, and that the account is not locked", async () => {
    const email = uniqueAddress("targeted");
    const userId = await register(email, "Jane Target");
    const event = create(SignInFailuresDetectedSchema, { userId, failures: 20, addresses: 7, windowSeconds: 900, occurredTime: timestampNow() });
    const eventId = await events.publish(TOPICS.identity, SignInFailuresDetectedSchema, userId, event);
    await events.publish(TOPICS.identity, SignInFailuresDetectedSchema, userId, event, eventId);
    const subjects = await subjectsOnceThere(email, 2);
    expect(subjects).toEqual(["Welcome to shopmesh, Jane Target", "Unusual sign-in attempts on your shopmesh account"]);
    const [warning] = (await mailTo(email)).filter((message) => message.Subject.startsWith("Unusual"));
    const { HTML } = await mailMessage(warning!.ID);
    expect(HTML).toContain("failed 20 times in the last 15 minutes, from 7 different addresses");
    expect(HTML).toContain("Your account is not locked");
    // The redelivered copy queued nothing.
    expect(await templateKeysQueuedFor(email)).toEqual(["user.welcome", "user.sign_in_failures"]);
  });

  test("when an order is placed, then the customer gets an order email with its lines and total", async () => {
    const email = uniqueAddress("order");
    const userId = await register(email, "Olga");
    const orderId = newId();
    await events.publish(
      TOPICS.order,
      OrderPlacedSchema,
      orderId,
      create(OrderPlacedSchema, {
        orderId,
        userId,
        userEmail: email,
        occurredTime: timestampNow(),
        lines: [
          create(OrderLineSchema, { productId: newId(), name: "Mug", quantity: 2, unitPrice: eur(500n), lineTotal: eur(1000n) }),
          create(OrderLineSchema, { productId: newId(), name: "Tea & Biscuits", quantity: 1, unitPrice: eur(399n), lineTotal: eur(399n) }),
        ],
        subtotal: eur(1399n),
        shippingFee: eur(490n),
        total: eur(1889n),
      }),
    );

    const subjects = await subjectsOnceThere(email, 2);
    expect(subjects).toEqual(["Welcome to shopmesh, Olga", `We received your order ${orderId}`]);
    const order = (await mailTo(email)).find((message) => message.Subject.includes(orderId))!;
    const html = (await mailMessage(order.ID)).HTML;
    expect(html).toContain("Hi Olga,");
    expect(html).toContain("2 x Mug @ EUR 5.00 = EUR 10.00");
    expect(html).toContain("1 x Tea &amp; Biscuits @ EUR 3.99 = EUR 3.99");
    expect(html).toContain("Total: EUR 18.89");
  });

  test("when an order is paid, assigned, shipped and delivered, then the customer hears of each step once", async () => {
    const email = uniqueAddress("journey");
    const userId = newId();
    const orderId = newId();
    const deliveryId = newId();
    // Learned from OrderPlaced alone: this customer's registration happened before we existed.
    await events.publish(
      TOPICS.order,
      OrderPlacedSchema,
      orderId,
      create(OrderPlacedSchema, { orderId, userId, userEmail: email, total: eur(2500n), subtotal: eur(2500n), shippingFee: eur(0n) }),
    );
    await subjectsOnceThere(email, 1);
    await events.publish(
      TOPICS.payment,
      PaymentSucceededSchema,
      orderId,
      create(PaymentSucceededSchema, { paymentId: newId(), orderId, userId, amount: eur(2500n) }),
    );
    await events.publish(
      TOPICS.delivery,
      DeliveryAssignedSchema,
      orderId,
      create(DeliveryAssignedSchema, { deliveryId, orderId, partnerId: newId(), partnerName: "Speedy Couriers" }),
    );
    const status = (oldStatus: DeliveryStatus, newStatus: DeliveryStatus) =>
      events.publish(TOPICS.delivery, DeliveryStatusChangedSchema, orderId, create(DeliveryStatusChangedSchema, { deliveryId, orderId, oldStatus, newStatus }));
    await status(DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP);
    await status(DeliveryStatus.PICKED_UP, DeliveryStatus.IN_TRANSIT);
    await status(DeliveryStatus.IN_TRANSIT, DeliveryStatus.DELIVERED);

    const subjects = await subjectsOnceThere(email, 5);
    expect(subjects.sort()).toEqual(
      [
        `We received your order ${orderId}`,
        `Payment confirmed for order ${orderId}`,
        `Order ${orderId} is being prepared for delivery`,
        `Order ${orderId} is on its way`,
        `Order ${orderId} was delivered`,
      ].sort(),
    );
    // IN_TRANSIT after PICKED_UP adds nothing; DELIVERED came after it on the same partition.
    expect((await templateKeysQueuedFor(email)).sort()).toEqual([
      "delivery.assigned",
      "delivery.delivered",
      "delivery.shipped",
      "order.placed",
      "payment.succeeded",
    ]);
    const assigned = (await mailTo(email)).find((message) => message.Subject.includes("prepared for delivery"))!;
    expect((await mailMessage(assigned.ID)).HTML).toContain("delivered by Speedy Couriers");
  });

  test("when a payment fails, an order is cancelled and its payment refunded, then the customer gets each email", async () => {
    const email = uniqueAddress("unhappy");
    const userId = await register(email, "Una");
    await subjectsOnceThere(email, 1);
    const orderId = newId();
    await events.publish(
      TOPICS.payment,
      PaymentFailedSchema,
      orderId,
      create(PaymentFailedSchema, { paymentId: newId(), orderId, userId, amount: eur(999n), reason: "card declined" }),
    );
    await events.publish(
      TOPICS.order,
      OrderCancelledSchema,
      orderId,
      create(OrderCancelledSchema, { orderId, userId, userEmail: email, reason: "payment_timeout" }),
    );
    await events.publish(
      TOPICS.payment,
      PaymentRefundedSchema,
      orderId,
      create(PaymentRefundedSchema, { paymentId: newId(), orderId, userId, amount: eur(999n), totalRefunded: eur(999n), reason: "order cancelled" }),
    );

    const subjects = await subjectsOnceThere(email, 4);
    expect(subjects.slice(1).sort()).toEqual([`Order ${orderId} was cancelled`, `Payment failed for order ${orderId}`, `Refund for order ${orderId}`].sort());
    const failed = (await mailTo(email)).find((message) => message.Subject.startsWith("Payment failed"))!;
    expect((await mailMessage(failed.ID)).HTML).toContain("EUR 9.99 for order");
    expect((await mailMessage(failed.ID)).HTML).toContain("card declined");
  });

  test("when stock runs low, then every configured admin gets one email", async () => {
    const productId = newId();
    await events.publish(
      TOPICS.inventory,
      StockLowSchema,
      productId,
      create(StockLowSchema, { productId, available: 2, threshold: 5, occurredTime: timestampNow() }),
    );

    const [subjectA] = await subjectsOnceThere(adminA, 1);
    const [subjectB] = await subjectsOnceThere(adminB, 1);
    expect(subjectA).toBe(`Low stock: product ${productId}`);
    expect(subjectB).toBe(subjectA);
    const html = (await mailMessage((await mailTo(adminA))[0]!.ID)).HTML;
    expect(html).toContain("2 available (threshold 5)");
  });

  test("when a payment event names a customer never seen, then it is dead-lettered with the reason and queues nothing", async () => {
    const orderId = newId();
    const eventId = await events.publish(
      TOPICS.payment,
      PaymentSucceededSchema,
      orderId,
      create(PaymentSucceededSchema, { paymentId: newId(), orderId, userId: newId(), amount: eur(100n) }),
    );

    const error = await deadLetterError(TOPICS.payment, eventId);
    expect(error).toContain("UnknownRecipientError");
    const processed = await query<RowDataPacket>(service.database, "SELECT event_id FROM processed_events WHERE event_id = ?", [eventId]);
    expect(processed).toHaveLength(0);
    const queued = await query<RowDataPacket>(service.database, "SELECT id FROM notifications WHERE idempotency_key LIKE ?", [`${eventId}%`]);
    expect(queued).toHaveLength(0);
  });
});
