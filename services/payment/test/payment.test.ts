import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { Consumer, Producer } from "kafkajs";
import mysql from "mysql2/promise";
import { OrderCancelledSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { PaymentFailedSchema, PaymentRefundedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { PaymentService, PaymentStatus } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { cloudEventHeaders, decodeEvent, encodeEvent, headerString } from "@shopmesh/platform/data";
import {
  connectClient,
  createTestTokens,
  dropDatabase,
  eventually,
  freePort,
  grpcClient,
  TEST_MYSQL,
  testDatabaseName,
  testGroupId,
  testKafka,
  type SpawnedService,
  expectCode,
} from "@shopmesh/platform/testing";
import type { PaymentApp } from "../src/app.js";
import { startPaymentWithSimulator } from "./support.js";
import { signWebhook } from "../src/domain/webhook-signature.js";

// Needs `npx tsc -b tsconfig.build.json` first: the provider simulator runs as a real process.

const database = testDatabaseName("payment");
const WEBHOOK_SECRET = "whsec_component_test";
let tokens: Awaited<ReturnType<typeof createTestTokens>>;
let simulator: SpawnedService;
let simulatorUrl: string;
let app: PaymentApp;
let port: number;
let observer: Consumer;
let producer: Producer;
let db: mysql.Connection;

interface SeenEvent {
  key: string;
  type: string | undefined;
  headers: Record<string, string | undefined>;
  value: Buffer;
}
const seen: SeenEvent[] = [];

beforeAll(async () => {
  tokens = await createTestTokens();
  port = await freePort();
  ({ app, simulator, simulatorUrl } = await startPaymentWithSimulator({
    database,
    webhookSecret: WEBHOOK_SECRET,
    webhookUrl: `http://127.0.0.1:${port}/webhooks/provider`,
    port,
    verifier: tokens.verifier,
    simulatorEnv: { PAYMENT_SIM_SLOW_CARD_DELAY_MS: "300" },
  }));
  db = await mysql.createConnection({ ...TEST_MYSQL, database });

  const kafka = testKafka("payment-test");
  producer = kafka.producer();
  await producer.connect();
  observer = kafka.consumer({ groupId: testGroupId("payment-test") });
  await observer.connect();
  await observer.subscribe({ topic: TOPICS.payment, fromBeginning: true });
  await observer.run({
    eachMessage: async ({ message }) => {
      seen.push({
        key: message.key?.toString() ?? "",
        type: headerString(message.headers, "ce_type"),
        headers: {
          ce_id: headerString(message.headers, "ce_id"),
          ce_source: headerString(message.headers, "ce_source"),
          ce_specversion: headerString(message.headers, "ce_specversion"),
          content_type: headerString(message.headers, "content-type"),
        },
        value: message.value!,
      });
    },
  });
}, 60_000);

afterAll(async () => {
  await observer?.disconnect();
  await producer?.disconnect();
  await db?.end();
  if (app) {
    await app.server.shutdown(1_000);
    for (const closer of app.closers) await closer.close();
  }
  await simulator?.stop();
  await dropDatabase(database);
}, 60_000);

afterEach(async () => {
  await simPost("/v1/test/behaviour", {});
});

// ---- helpers ---------------------------------------------------------------------------

async function simPost(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${simulatorUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function simDeliveries(intentId: string): Promise<Array<{ type: string; status: string; last_status_code: number | null }>> {
  const response = await fetch(`${simulatorUrl}/v1/test/webhooks`);
  const { deliveries } = (await response.json()) as { deliveries: Array<{ intent_id: string; type: string; status: string; last_status_code: number | null }> };
  return deliveries.filter((delivery) => delivery.intent_id === intentId);
}

const buildIntentRequest = (overrides: Partial<{ orderId: string; userId: string; amountMinor: bigint; currency: string }> = {}) => {
  const orderId = overrides.orderId ?? randomUUID();
  return {
    orderId,
    userId: overrides.userId ?? randomUUID(),
    amount: { amountMinor: overrides.amountMinor ?? 4999n, currency: overrides.currency ?? "EUR" },
    idempotencyKey: `order-${orderId}`.slice(0, 64),
  };
};

async function createIntent(overrides: Parameters<typeof buildIntentRequest>[0] = {}) {
  const stub = grpcClient(PaymentService, port);
  try {
    const request = buildIntentRequest(overrides);
    const { payment } = await stub.createPaymentIntent(request);
    return { request, payment: payment! };
  } finally {
    stub.close();
  }
}

async function ownerClient(userId: string) {
  return connectClient(PaymentService, port, { token: await tokens.token(userId) });
}

async function adminClient() {
  return connectClient(PaymentService, port, { token: await tokens.token(randomUUID(), ["customer", "admin"]) });
}

async function waitForStatus(userId: string, paymentId: string, status: PaymentStatus) {
  const client = await ownerClient(userId);
  return eventually(
    async () => {
      const { payment } = await client.getPayment({ paymentId });
      return payment?.status === status ? payment : undefined;
    },
    { what: `payment ${PaymentStatus[status]}` },
  );
}

async function rows<T = mysql.RowDataPacket>(sql: string, params: unknown[]): Promise<T[]> {
  const [result] = await db.query<mysql.RowDataPacket[]>(sql, params);
  return result as T[];
}

async function ledgerOf(paymentId: string) {
  const entries = await rows<{ entry_group_id: string; account: string; amount_minor: number; movement: string }>(
    "SELECT entry_group_id, account, amount_minor, movement FROM ledger_entries WHERE payment_id = ? ORDER BY id",
    [paymentId],
  );
  const sumBy = (key: (entry: (typeof entries)[number]) => string) => {
    const sums = new Map<string, number>();
    for (const entry of entries) sums.set(key(entry), (sums.get(key(entry)) ?? 0) + Number(entry.amount_minor));
    return sums;
  };
  return { entries, perGroup: sumBy((entry) => entry.entry_group_id), perAccount: sumBy((entry) => entry.account) };
}

/** Outbox rows of one order: the exact set of events the service decided to publish. */
async function outboxOf(orderId: string) {
  return rows<{ event_type: string; published_at: Date | null }>("SELECT event_type, published_at FROM outbox WHERE event_key = ? ORDER BY id", [orderId]);
}

async function waitForPublished(orderId: string, count: number) {
  await eventually(
    async () => {
      const outbox = await outboxOf(orderId);
      return outbox.length === count && outbox.every((row) => row.published_at !== null) ? true : undefined;
    },
    { what: `${count} published outbox rows` },
  );
  return eventually(
    async () => {
      const events = seen.filter((event) => event.key === orderId);
      return events.length === count ? events : undefined;
    },
    { what: `${count} events on Kafka`, timeoutMs: 20_000 },
  );
}

async function postWebhook(body: string, signature: string) {
  return fetch(`http://127.0.0.1:${port}/webhooks/provider`, {
    method: "POST",
    headers: { "content-type": "application/json", "Shopmesh-Signature": signature },
    body,
  });
}

// ---- tests -----------------------------------------------------------------------------

describe("CreatePaymentIntent", () => {
  test("when called twice for the same order, then one payment with one provider intent", async () => {
    const { request, payment } = await createIntent();
    const stub = grpcClient(PaymentService, port);
    try {
      const again = await stub.createPaymentIntent(request);
      expect(again.payment!.id).toBe(payment.id);
      expect(again.payment!.providerIntentId).toBe(payment.providerIntentId);
    } finally {
      stub.close();
    }
    expect(payment.status).toBe(PaymentStatus.REQUIRES_CONFIRMATION);
    expect(payment.providerIntentId).toMatch(/^pi_/);
    expect(payment.clientSecret).toMatch(/_secret_/);
    expect(payment.checkoutUrl).toBe(`${simulatorUrl}/checkout/${payment.providerIntentId}`);
    expect(await rows("SELECT id FROM payments WHERE order_id = ?", [request.orderId])).toHaveLength(1);
  });

  test("when the same order comes with another amount, then ALREADY_EXISTS", async () => {
    const { request } = await createIntent();
    const stub = grpcClient(PaymentService, port);
    try {
      await expectCode(stub.createPaymentIntent({ ...request, amount: { amountMinor: 1n, currency: "EUR" } }), Code.AlreadyExists);
    } finally {
      stub.close();
    }
  });

  test("it is internal: through the edge transport it is PERMISSION_DENIED", async () => {
    await expectCode(connectClient(PaymentService, port).createPaymentIntent(buildIntentRequest()), Code.PermissionDenied);
  });
});

describe("provider webhooks", () => {
  test("when the customer pays with 4242, then SUCCEEDED, a balanced ledger and one PaymentSucceeded with CloudEvents headers", async () => {
    const { request, payment } = await createIntent();
    expect((await simPost(`/v1/payment_intents/${payment.providerIntentId}/confirm`, { card_number: "4242424242424242" })).status).toBe(200);

    await waitForStatus(request.userId, payment.id, PaymentStatus.SUCCEEDED);
    const ledger = await ledgerOf(payment.id);
    expect(ledger.entries).toHaveLength(2);
    expect([...ledger.perGroup.values()]).toEqual([0]);
    expect(ledger.perAccount).toEqual(
      new Map([
        ["provider_clearing", 4999],
        ["merchant_revenue", -4999],
      ]),
    );

    const events = await waitForPublished(request.orderId, 1);
    expect(events[0]!.type).toBe("shopmesh.events.v1.PaymentSucceeded");
    expect(events[0]!.headers).toMatchObject({ ce_source: "/shopmesh/payment", ce_specversion: "1.0", content_type: "application/protobuf" });
    expect(events[0]!.headers.ce_id).toBeTruthy();
    const succeeded = decodeEvent(PaymentSucceededSchema, events[0]!.value);
    expect(succeeded).toMatchObject({ paymentId: payment.id, orderId: request.orderId, userId: request.userId });
    expect(succeeded.amount?.amountMinor).toBe(4999n);
    expect(succeeded.providerEventId).toMatch(/^evt_/);
  });

  test("when the card is declined, then FAILED with the reason, one PaymentFailed and no ledger entries", async () => {
    const { request, payment } = await createIntent();
    await simPost(`/v1/payment_intents/${payment.providerIntentId}/confirm`, { card_number: "4000000000000002" });

    const failed = await waitForStatus(request.userId, payment.id, PaymentStatus.FAILED);
    expect(failed.failureReason).toBe("card_declined");
    expect((await ledgerOf(payment.id)).entries).toHaveLength(0);
    const events = await waitForPublished(request.orderId, 1);
    expect(events[0]!.type).toBe("shopmesh.events.v1.PaymentFailed");
    expect(decodeEvent(PaymentFailedSchema, events[0]!.value).reason).toBe("card_declined");
  });

  test("when the provider sends every webhook three times and out of order, then one ledger entry set and one PaymentSucceeded", async () => {
    await simPost("/v1/test/behaviour", { duplicate_webhooks: 3, out_of_order: true });
    const { request, payment } = await createIntent();
    await simPost(`/v1/payment_intents/${payment.providerIntentId}/confirm`, { card_number: "4242424242424242" });

    const deliveries = await eventually(
      async () => {
        const all = await simDeliveries(payment.providerIntentId);
        return all.length === 6 && all.every((delivery) => delivery.status === "delivered") ? all : undefined;
      },
      { what: "six delivered webhooks" },
    );
    // Newest first: succeeded x3, then the stale processing x3; all acknowledged with 2xx.
    expect(deliveries.map((delivery) => delivery.type)).toEqual([...Array(3).fill("payment_intent.succeeded"), ...Array(3).fill("payment_intent.processing")]);
    expect(deliveries.every((delivery) => delivery.last_status_code === 200)).toBe(true);

    const stored = await (await ownerClient(request.userId)).getPayment({ paymentId: payment.id });
    expect(stored.payment!.status).toBe(PaymentStatus.SUCCEEDED);
    const ledger = await ledgerOf(payment.id);
    expect(ledger.entries).toHaveLength(2);
    expect(ledger.perGroup.size).toBe(1);
    const outcomes = await rows<{ event_type: string; outcome: string }>(
      "SELECT event_type, outcome FROM provider_events WHERE provider_intent_id = ? ORDER BY event_type",
      [payment.providerIntentId],
    );
    expect(outcomes.map((row) => [row.event_type, row.outcome.split(":")[0]])).toEqual([
      ["payment_intent.processing", "ignored"],
      ["payment_intent.succeeded", "applied"],
    ]);
    const events = await waitForPublished(request.orderId, 1);
    expect(events.map((event) => event.type)).toEqual(["shopmesh.events.v1.PaymentSucceeded"]);
  });

  describe("requests the provider did not sign now", () => {
    const forgedBody = (payment: { providerIntentId: string; id: string; orderId: string }) =>
      JSON.stringify({
        id: `evt_forged_${randomUUID()}`,
        type: "payment_intent.succeeded",
        created: Math.floor(Date.now() / 1000),
        data: {
          intent_id: payment.providerIntentId,
          order_id: payment.orderId,
          amount_minor: 4999,
          currency: "EUR",
          failure_reason: null,
          metadata: { payment_id: payment.id },
        },
      });

    async function expectUnchanged(userId: string, paymentId: string, intentId: string) {
      const { payment } = await (await ownerClient(userId)).getPayment({ paymentId });
      expect(payment!.status).toBe(PaymentStatus.REQUIRES_CONFIRMATION);
      expect((await ledgerOf(paymentId)).entries).toHaveLength(0);
      expect(await rows("SELECT event_id FROM provider_events WHERE provider_intent_id = ?", [intentId])).toHaveLength(0);
      expect(await outboxOf(payment!.orderId)).toHaveLength(0);
    }

    test("when the signature was made with another secret, then 400 and nothing changes", async () => {
      const { request, payment } = await createIntent();
      const body = forgedBody(payment);
      const response = await postWebhook(body, signWebhook("whsec_attacker", body, Math.floor(Date.now() / 1000)));
      expect(response.status).toBe(400);
      expect(await postWebhook(body, "t=1,v1=nothex").then((r) => r.status)).toBe(400);
      await expectUnchanged(request.userId, payment.id, payment.providerIntentId);
    });

    test("when a correctly signed request is older than five minutes, then 400 and nothing changes", async () => {
      const { request, payment } = await createIntent();
      const body = forgedBody(payment);
      const response = await postWebhook(body, signWebhook(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000) - 6 * 60));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: "signature stale" });
      await expectUnchanged(request.userId, payment.id, payment.providerIntentId);
    });

    test("the same request signed now is accepted (control for the two tests above)", async () => {
      const { request, payment } = await createIntent();
      const body = forgedBody(payment);
      const response = await postWebhook(body, signWebhook(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000)));
      expect(response.status).toBe(200);
      await waitForStatus(request.userId, payment.id, PaymentStatus.SUCCEEDED);
    });
  });
});

describe("refunds", () => {
  async function paidPayment(amountMinor = 4999n) {
    const created = await createIntent({ amountMinor });
    await simPost(`/v1/payment_intents/${created.payment.providerIntentId}/confirm`, { card_number: "4242424242424242" });
    await waitForStatus(created.request.userId, created.payment.id, PaymentStatus.SUCCEEDED);
    return created;
  }

  async function publishOrderCancelled(orderId: string, userId: string, paymentId: string) {
    const event = create(OrderCancelledSchema, { orderId, userId, paymentId, reason: "customer_request", occurredTime: timestampFromDate(new Date()) });
    const id = randomUUID();
    await producer.send({
      topic: TOPICS.order,
      messages: [
        {
          key: orderId,
          value: Buffer.from(encodeEvent(OrderCancelledSchema, event)),
          headers: cloudEventHeaders({
            id,
            type: OrderCancelledSchema.typeName,
            source: "/shopmesh/order",
            time: new Date().toISOString(),
            key: orderId,
            payload: new Uint8Array(),
          }),
        },
      ],
    });
  }

  test("when a paid order is cancelled, then the provider refunds it, the ledger nets to zero and one PaymentRefunded follows", async () => {
    const { request, payment } = await paidPayment();
    await publishOrderCancelled(request.orderId, request.userId, payment.id);

    const refunded = await waitForStatus(request.userId, payment.id, PaymentStatus.REFUNDED);
    expect(refunded.refundedAmount?.amountMinor).toBe(4999n);
    const ledger = await ledgerOf(payment.id);
    expect(ledger.entries.map((entry) => entry.movement)).toEqual(["capture", "capture", "refund", "refund"]);
    expect([...ledger.perGroup.values()]).toEqual([0, 0]);
    expect([...ledger.perAccount.values()]).toEqual([0, 0]);

    const events = await waitForPublished(request.orderId, 2);
    expect(events.map((event) => event.type)).toEqual(["shopmesh.events.v1.PaymentSucceeded", "shopmesh.events.v1.PaymentRefunded"]);
    const refundEvent = decodeEvent(PaymentRefundedSchema, events[1]!.value);
    expect(refundEvent.amount?.amountMinor).toBe(4999n);
    expect(refundEvent.totalRefunded?.amountMinor).toBe(4999n);
    expect(refundEvent.reason).toContain("customer_request");
  });

  test("when an order whose payment nobody confirmed is cancelled, then the payment is CANCELLED and confirming later is refused", async () => {
    const { request, payment } = await createIntent();
    await publishOrderCancelled(request.orderId, request.userId, payment.id);
    await waitForStatus(request.userId, payment.id, PaymentStatus.CANCELLED);
    expect((await simPost(`/v1/payment_intents/${payment.providerIntentId}/confirm`, { card_number: "4242424242424242" })).status).toBe(409);
  });

  test("an admin refunds part, then the rest; a customer may not; more than is left is FAILED_PRECONDITION", async () => {
    const { request, payment } = await paidPayment(5000n);
    const customer = await ownerClient(request.userId);
    await expectCode(customer.refundPayment({ paymentId: payment.id, reason: "goodwill", idempotencyKey: "refund-part-1" }), Code.PermissionDenied);

    const admin = await adminClient();
    const partial = { paymentId: payment.id, amount: { amountMinor: 1200n, currency: "EUR" }, reason: "damaged box", idempotencyKey: "refund-part-1" };
    await admin.refundPayment(partial);
    await admin.refundPayment(partial); // a retry is not a second refund
    await waitForStatus(request.userId, payment.id, PaymentStatus.PARTIALLY_REFUNDED);
    await expectCode(
      admin.refundPayment({ ...partial, amount: { amountMinor: 3801n, currency: "EUR" }, idempotencyKey: "refund-part-2" }),
      Code.FailedPrecondition,
    );

    await admin.refundPayment({ paymentId: payment.id, reason: "order lost", idempotencyKey: "refund-rest-1" });
    const done = await waitForStatus(request.userId, payment.id, PaymentStatus.REFUNDED);
    expect(done.refundedAmount?.amountMinor).toBe(5000n);
    const ledger = await ledgerOf(payment.id);
    expect(ledger.perGroup.size).toBe(3);
    expect([...ledger.perAccount.values()]).toEqual([0, 0]);
  });

  test("a payment that has not succeeded cannot be refunded", async () => {
    const { payment } = await createIntent();
    await expectCode((await adminClient()).refundPayment({ paymentId: payment.id, reason: "x", idempotencyKey: "refund-early-1" }), Code.FailedPrecondition);
  });
});

describe("GetPayment and GetPaymentByOrder", () => {
  test("the owner sees the payment and its client secret; an admin sees it without the secret; anyone else gets NOT_FOUND", async () => {
    const { request, payment } = await createIntent();
    const owner = await ownerClient(request.userId);
    expect((await owner.getPaymentByOrder({ orderId: request.orderId })).payment).toMatchObject({ id: payment.id, clientSecret: payment.clientSecret });
    const asAdmin = await (await adminClient()).getPayment({ paymentId: payment.id });
    expect(asAdmin.payment).toMatchObject({ id: payment.id, clientSecret: "" });
    const stranger = await ownerClient(randomUUID());
    await expectCode(stranger.getPayment({ paymentId: payment.id }), Code.NotFound);
    await expectCode(stranger.getPaymentByOrder({ orderId: request.orderId }), Code.NotFound);
    await expectCode(connectClient(PaymentService, port).getPayment({ paymentId: payment.id }), Code.Unauthenticated);
  });
});
