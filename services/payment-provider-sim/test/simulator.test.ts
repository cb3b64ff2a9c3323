import { createHmac } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { eventually, testLogger } from "@shopmesh/platform/testing";
import { createSimulator, type Simulator } from "../src/server.js";

const SECRET = "whsec_test_simulator";

interface Received {
  signature: string;
  body: string;
  event: { id: string; type: string; data: Record<string, unknown> };
}

/** A webhook receiver that answers with the queued statuses first, then 200. */
let received: Received[] = [];
let failuresToAnswer: number[] = [];
let receiver: http.Server;
let simulator: Simulator;
let base: string;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ signature: String(req.headers["shopmesh-signature"]), body, event: JSON.parse(body) as Received["event"] });
      res.writeHead(failuresToAnswer.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  simulator = createSimulator({
    webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    webhookSecret: SECRET,
    webhookMaxAttempts: 4,
    webhookInitialBackoffMs: 20,
    slowCardDelayMs: 100,
    logger: testLogger("payment-provider-sim"),
  });
  base = `http://127.0.0.1:${await simulator.listen(0, "127.0.0.1")}`;
});

afterAll(async () => {
  await simulator.close();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(async () => {
  received = [];
  failuresToAnswer = [];
  await post("/v1/test/behaviour", {});
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function createIntent(orderId = `order-${Math.random().toString(16).slice(2)}`) {
  const { status, body } = await post(
    "/v1/payment_intents",
    { amount_minor: 4999, currency: "EUR", order_id: orderId, metadata: { payment_id: "p-1" } },
    { "Idempotency-Key": orderId },
  );
  expect(status).toBe(200);
  return body as { id: string; client_secret: string; status: string; checkout_url: string };
}

const eventsOf = (intentId: string) => received.filter((item) => item.event.data["intent_id"] === intentId);

describe("payment provider simulator", () => {
  test("creating an intent twice with the same idempotency key returns the same intent", async () => {
    const first = await createIntent("order-same-key");
    const second = await createIntent("order-same-key");
    expect(second.id).toBe(first.id);
    expect(first.status).toBe("requires_confirmation");
    expect(first.client_secret).toMatch(/^pi_.+_secret_/);
    expect(first.checkout_url).toBe(`${base}/checkout/${first.id}`);
  });

  test("the same idempotency key with another amount is refused with 409", async () => {
    await createIntent("order-reused-key");
    const { status } = await post(
      "/v1/payment_intents",
      { amount_minor: 1, currency: "EUR", order_id: "order-reused-key" },
      { "Idempotency-Key": "order-reused-key" },
    );
    expect(status).toBe(409);
  });

  test("when confirmed with 4242, then processing and succeeded webhooks arrive, each signed over its timestamp and raw body", async () => {
    const intent = await createIntent();
    const confirmed = await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4242 4242 4242 4242" });
    expect(confirmed.status).toBe(200);
    await eventually(async () => (eventsOf(intent.id).length === 2 ? true : undefined), { what: "two webhooks" });
    expect(eventsOf(intent.id).map((item) => item.event.type)).toEqual(["payment_intent.processing", "payment_intent.succeeded"]);
    for (const item of eventsOf(intent.id)) {
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(item.signature)!;
      expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
      expect(v1).toBe(createHmac("sha256", SECRET).update(`${t}.${item.body}`).digest("hex"));
    }
    expect(eventsOf(intent.id)[1]!.event.data).toMatchObject({ amount_minor: 4999, currency: "EUR", metadata: { payment_id: "p-1" } });
    expect((await (await fetch(`${base}/v1/payment_intents/${intent.id}`)).json()) as object).toMatchObject({ status: "succeeded", card_last4: "4242" });
  });

  test("when confirmed with the decline card, then payment_failed with card_declined; confirming again is refused", async () => {
    const intent = await createIntent();
    await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4000000000000002" });
    await eventually(async () => (eventsOf(intent.id).length === 2 ? true : undefined), { what: "two webhooks" });
    expect(eventsOf(intent.id)[1]!.event).toMatchObject({ type: "payment_intent.payment_failed", data: { failure_reason: "card_declined" } });
    expect((await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4242424242424242" })).status).toBe(409);
  });

  test("the slow failing card reports insufficient funds after the delay", async () => {
    const intent = await createIntent();
    const confirmed = await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4000000000009995" });
    expect(confirmed.body["status"]).toBe("processing");
    await eventually(async () => (eventsOf(intent.id).length === 2 ? true : undefined), { what: "the delayed outcome" });
    expect(eventsOf(intent.id)[1]!.event).toMatchObject({ type: "payment_intent.payment_failed", data: { failure_reason: "insufficient_funds" } });
  });

  test("when the receiver answers 500 twice, then the webhook is retried until it gets a 2xx", async () => {
    const intent = await createIntent();
    failuresToAnswer = [500, 503];
    await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4242424242424242" });
    await eventually(async () => (eventsOf(intent.id).length === 4 ? true : undefined), { what: "retried deliveries" });
    const { deliveries } = (await (await fetch(`${base}/v1/test/webhooks`)).json()) as { deliveries: Array<Record<string, unknown>> };
    const mine = deliveries.filter((delivery) => delivery["intent_id"] === intent.id);
    expect(mine.map((delivery) => [delivery["type"], delivery["attempts"], delivery["status"]])).toEqual([
      ["payment_intent.processing", 3, "delivered"],
      ["payment_intent.succeeded", 1, "delivered"],
    ]);
  });

  test("with duplicates and out-of-order delivery switched on, each event arrives three times, the newest first", async () => {
    await post("/v1/test/behaviour", { duplicate_webhooks: 3, out_of_order: true });
    const intent = await createIntent();
    await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4242424242424242" });
    await eventually(async () => (eventsOf(intent.id).length === 6 ? true : undefined), { what: "six deliveries" });
    const types = eventsOf(intent.id).map((item) => item.event.type);
    expect(types).toEqual([...Array(3).fill("payment_intent.succeeded"), ...Array(3).fill("payment_intent.processing")]);
    expect(new Set(eventsOf(intent.id).map((item) => item.event.id)).size).toBe(2);
  });

  test("a refund is idempotent per key, cannot exceed what is left and sends charge.refunded", async () => {
    const intent = await createIntent();
    await post(`/v1/payment_intents/${intent.id}/confirm`, { card_number: "4242424242424242" });
    const first = await post(`/v1/payment_intents/${intent.id}/refund`, { amount_minor: 1000 }, { "Idempotency-Key": "refund-1" });
    const again = await post(`/v1/payment_intents/${intent.id}/refund`, { amount_minor: 1000 }, { "Idempotency-Key": "refund-1" });
    expect(again.body["id"]).toBe(first.body["id"]);
    expect((await post(`/v1/payment_intents/${intent.id}/refund`, { amount_minor: 4000 }, { "Idempotency-Key": "refund-2" })).status).toBe(400);
    await eventually(async () => (eventsOf(intent.id).some((item) => item.event.type === "charge.refunded") ? true : undefined), { what: "charge.refunded" });
    expect(eventsOf(intent.id).filter((item) => item.event.type === "charge.refunded")).toHaveLength(1);
    expect(eventsOf(intent.id).find((item) => item.event.type === "charge.refunded")!.event.data).toMatchObject({
      amount_minor: 1000,
      total_refunded_minor: 1000,
      refund_id: first.body["id"],
    });
  });

  test("the hosted checkout page offers a card field and never echoes card data", async () => {
    const intent = await createIntent();
    const response = await fetch(intent.checkout_url);
    const html = await response.text();
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(html).toContain('id="card"');
    expect(html).toContain(`/v1/payment_intents/${intent.id}/confirm`);
  });

  test("malformed requests get 400 with a reason, unknown intents 404", async () => {
    expect((await post("/v1/payment_intents", { amount_minor: -1, currency: "eur", order_id: "" }, { "Idempotency-Key": "k" })).status).toBe(400);
    expect((await post("/v1/payment_intents", { amount_minor: 100, currency: "EUR", order_id: "o" })).status).toBe(400);
    expect((await fetch(`${base}/v1/payment_intents/pi_missing`)).status).toBe(404);
  });
});
