import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import mysql from "mysql2/promise";
import { OrderCancelledSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { PaymentRefundedSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentService } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { decodeEvent } from "@shopmesh/platform/data";
import {
  createEventPublisher,
  createTestTokens,
  dropDatabase,
  eventually,
  grpcClient,
  TEST_MYSQL,
  testDatabaseName,
  type EventPublisher,
  type SpawnedService,
} from "@shopmesh/platform/testing";
import type { PaymentApp } from "../src/app.js";
import { startPaymentWithSimulator } from "./support.js";
import { SIGNATURE_HEADER } from "../src/domain/webhook-signature.js";

// Needs `npx tsc -b tsconfig.build.json` first: the provider simulator runs as a real process.
//
// The provider's webhooks reach payment through a gate the test holds shut, so the order of
// what payment hears is fixed: the customer pays at the provider, the order is cancelled,
// and only then does the success arrive.

const database = testDatabaseName("payment");
const WEBHOOK_SECRET = "whsec_late_success_test";
let simulator: SpawnedService;
let simulatorUrl: string;
let app: PaymentApp;
let port: number;
let db: mysql.Connection;
let events: EventPublisher;
let gate: ReturnType<typeof createWebhookGate>;

/** Holds the provider's webhooks (answering 200, as a queue would) until opened, then forwards them in order. */
function createWebhookGate() {
  const held: Array<{ body: string; signature: string }> = [];
  let target = "";
  let open = false;
  const forward = async (webhook: { body: string; signature: string }) => {
    const response = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: webhook.signature },
      body: webhook.body,
    });
    await response.arrayBuffer();
    return response.status;
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const webhook = { body: Buffer.concat(chunks).toString("utf8"), signature: String(req.headers[SIGNATURE_HEADER] ?? "") };
      if (!open) {
        held.push(webhook);
        res.writeHead(200).end();
        return;
      }
      void forward(webhook).then(
        (status) => res.writeHead(status).end(),
        () => res.writeHead(502).end(),
      );
    });
  });
  return {
    held: () => held.map((webhook) => JSON.parse(webhook.body) as { type: string; data: { intent_id: string } }),
    async listen(): Promise<number> {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return (server.address() as AddressInfo).port;
    },
    /** Where forwarded webhooks go; known once payment listens. */
    target(url: string) {
      target = url;
    },
    /** Delivers what was held, in arrival order, and lets later webhooks straight through. */
    async open() {
      open = true;
      for (const webhook of held.splice(0)) expect(await forward(webhook)).toBe(200);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  gate = createWebhookGate();
  const gatePort = await gate.listen();
  const tokens = await createTestTokens();
  ({ app, port, simulator, simulatorUrl } = await startPaymentWithSimulator({
    database,
    webhookSecret: WEBHOOK_SECRET,
    webhookUrl: `http://127.0.0.1:${gatePort}/webhooks/provider`,
    port: 0,
    verifier: tokens.verifier,
  }));
  gate.target(`http://127.0.0.1:${port}/webhooks/provider`);
  db = await mysql.createConnection({ ...TEST_MYSQL, database });
  events = await createEventPublisher("/shopmesh/order");
}, 60_000);

afterAll(async () => {
  await events?.close();
  await db?.end();
  if (app) {
    await app.server.shutdown(1_000);
    for (const closer of app.closers) await closer.close();
  }
  await simulator?.stop();
  await gate?.close();
  await dropDatabase(database);
}, 60_000);

async function rows<T>(sql: string, params: unknown[]): Promise<T[]> {
  const [result] = await db.query<mysql.RowDataPacket[]>(sql, params);
  return result as T[];
}

async function paymentStatus(paymentId: string): Promise<string> {
  return (await rows<{ status: string }>("SELECT status FROM payments WHERE id = ?", [paymentId]))[0]!.status;
}

test("when the customer pays after the order was cancelled, then the success is booked and refunded at once, and the ledger nets to zero", async () => {
  const stub = grpcClient(PaymentService, port);
  const orderId = randomUUID();
  const { payment } = await stub.createPaymentIntent({
    orderId,
    userId: randomUUID(),
    amount: { amountMinor: 3499n, currency: "EUR" },
    idempotencyKey: orderId,
  });
  stub.close();
  const intentId = payment!.providerIntentId;

  // The customer pays; the provider's answer is on its way but has not reached payment yet.
  const confirmed = await fetch(`${simulatorUrl}/v1/payment_intents/${intentId}/confirm`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ card_number: "4242424242424242" }),
  });
  expect(confirmed.status).toBe(200);
  await eventually(async () => (gate.held().some((webhook) => webhook.type === "payment_intent.succeeded") ? true : undefined), {
    what: "success held at the gate",
  });

  // Meanwhile the order is cancelled (its reservation expired): cancelling the intent is too late (409).
  await events.publish(
    TOPICS.order,
    OrderCancelledSchema,
    orderId,
    create(OrderCancelledSchema, {
      orderId,
      paymentId: payment!.id,
      reason: "reservation_expired",
      previousStatus: OrderStatus.PENDING,
      occurredTime: timestampNow(),
    }),
  );
  await eventually(async () => ((await paymentStatus(payment!.id)) === "PROCESSING" ? true : undefined), { what: "payment waiting for the outcome" });
  expect(await rows("SELECT id FROM ledger_entries WHERE payment_id = ?", [payment!.id])).toHaveLength(0);
  expect(await rows("SELECT id FROM refunds WHERE payment_id = ?", [payment!.id])).toHaveLength(0);

  await gate.open();

  await eventually(async () => ((await paymentStatus(payment!.id)) === "REFUNDED" ? true : undefined), { what: "payment refunded" });
  const ledger = await rows<{ entry_group_id: string; movement: string; amount_minor: number }>(
    "SELECT entry_group_id, movement, amount_minor FROM ledger_entries WHERE payment_id = ? ORDER BY id",
    [payment!.id],
  );
  expect(ledger.map((entry) => entry.movement)).toEqual(["capture", "capture", "refund", "refund"]);
  expect(ledger.reduce((sum, entry) => sum + Number(entry.amount_minor), 0)).toBe(0);
  const refunds = await rows<{ amount_minor: number; reason: string; idempotency_key: string }>(
    "SELECT amount_minor, reason, idempotency_key FROM refunds WHERE payment_id = ?",
    [payment!.id],
  );
  expect(refunds.map((refund) => ({ ...refund, amount_minor: Number(refund.amount_minor) }))).toEqual([
    { amount_minor: 3499, reason: "order cancelled: reservation_expired", idempotency_key: orderId },
  ]);
  const outbox = await rows<{ event_type: string; payload: Buffer }>("SELECT event_type, payload FROM outbox WHERE event_key = ? ORDER BY id", [orderId]);
  expect(outbox.map((row) => row.event_type)).toEqual(["shopmesh.events.v1.PaymentSucceeded", "shopmesh.events.v1.PaymentRefunded"]);
  expect(decodeEvent(PaymentRefundedSchema, outbox[1]!.payload).totalRefunded?.amountMinor).toBe(3499n);
  const intent = (await (await fetch(`${simulatorUrl}/v1/payment_intents/${intentId}`)).json()) as { status: string; amount_refunded_minor: number };
  expect(intent).toMatchObject({ status: "succeeded", amount_refunded_minor: 3499 });
}, 60_000);
