import { randomBytes, randomUUID } from "node:crypto";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError } from "@connectrpc/connect";
import { PreconditionFailureSchema } from "@shopmesh/gen/google/rpc/error_details_pb.js";
import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryAssignedSchema, DeliveryStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { PaymentFailedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { OrderService, OrderStatus, type Order } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { InvalidArgumentError, TOPICS, UnavailableError } from "@shopmesh/platform";
import { cloudEventHeaders, createIdempotentProducer, encodeEvent, newEventId } from "@shopmesh/platform/data";
import { connectClient, createTestTokens, dropDatabase, eventually, testDatabaseName, testKafka, testLogger, expectCode } from "@shopmesh/platform/testing";
import type { Producer } from "kafkajs";
import { buildOrder, type OrderApp } from "../src/app.js";
import { loadOrderConfig } from "../src/config.js";
import { createFakeDownstreams } from "./fake-downstreams.js";

const logger = testLogger("order");
const database = testDatabaseName("order");
let tokens: Awaited<ReturnType<typeof createTestTokens>>;
let fakes: ReturnType<typeof createFakeDownstreams>;
let app: OrderApp;
let port: number;
let producer: Producer;
/** The order service's clock: the wall clock plus however far a test has moved it on. */
const clock = { aheadMs: 0, now: () => new Date(Date.now() + clock.aheadMs) };

const address = { recipientName: "Jane Shopper", line1: "1 Main St", city: "Berlin", postalCode: "10115", countryCode: "DE" };
const newKey = () => `key-${randomBytes(6).toString("hex")}`;

async function customer() {
  const userId = randomUUID();
  const token = await tokens.token(userId);
  return { userId, token, client: connectClient(OrderService, port, { token }) };
}

/** A customer with a cart of `lines` of fresh products (each with plenty of stock unless given). */
async function customerWithCart(lines: Array<{ priceMinor: bigint; quantity: number; units?: number }>) {
  const who = await customer();
  const cart = lines.map((line, index) => {
    const productId = randomUUID();
    fakes.addProduct(productId, `Product ${index}`, line.priceMinor, line.units ?? 100);
    return { productId, quantity: line.quantity };
  });
  fakes.fillCart(who.userId, cart);
  return { ...who, productIds: cart.map((line) => line.productId) };
}

async function publish<D extends DescMessage>(topic: string, key: string, schema: D, event: MessageShape<D>): Promise<void> {
  const headers = cloudEventHeaders({
    id: newEventId(),
    type: schema.typeName,
    source: "/test",
    time: new Date().toISOString(),
    key,
    payload: new Uint8Array(),
  });
  await producer.send({ topic, messages: [{ key, value: Buffer.from(encodeEvent(schema, event)), headers }] });
}

async function statusOf(client: Awaited<ReturnType<typeof customer>>["client"], orderId: string, status: OrderStatus): Promise<Order> {
  return eventually(
    async () => {
      const { order } = await client.getOrder({ orderId });
      return order?.status === status ? order : undefined;
    },
    { what: `order ${orderId} to be ${OrderStatus[status]}` },
  );
}

/** The PreconditionFailure violations an error carries, without their descriptions. */
const violations = (error: ConnectError) =>
  error.findDetails(PreconditionFailureSchema).flatMap((failure) => failure.violations.map(({ type, subject }) => ({ type, subject })));

beforeAll(async () => {
  tokens = await createTestTokens();
  fakes = createFakeDownstreams(tokens.verifier, logger);
  const fakePort = await fakes.server.listen(0, "127.0.0.1");
  const fakeAddr = `127.0.0.1:${fakePort}`;
  const config = loadOrderConfig({
    ...process.env,
    NODE_ENV: "test",
    ORDER_DATABASE: database,
    IDENTITY_ADDR: fakeAddr,
    CART_ADDR: fakeAddr,
    INVENTORY_ADDR: fakeAddr,
    PAYMENT_ADDR: fakeAddr,
    ORDER_PAYMENT_WINDOW_SECONDS: "3600",
    ORDER_SWEEP_INTERVAL_MS: "600000",
  });
  app = await buildOrder(config, logger, { verifier: tokens.verifier, now: clock.now });
  port = await app.server.listen(0, "127.0.0.1");
  producer = createIdempotentProducer(testKafka("order-test"));
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await app.server.shutdown(1_000);
  for (const closer of app.closers) await closer.close();
  await fakes.server.shutdown(500);
  await dropDatabase(database);
});

describe("PlaceOrder", () => {
  test("takes the prices the cart carries, reserves stock, asks for a payment and returns a PENDING order at once", async () => {
    const { userId, client, productIds } = await customerWithCart([
      { priceMinor: 1250n, quantity: 2 },
      { priceMinor: 399n, quantity: 1 },
    ]);
    fakes.setPrice(productIds[0]!, 1300n); // changed since it was added to the cart
    const { order, payment } = await client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });

    expect(order?.status).toBe(OrderStatus.PENDING);
    expect(order?.userId).toBe(userId);
    expect(order?.lines.map((line) => [line.quantity, line.unitPrice?.amountMinor])).toEqual([
      [2, 1300n],
      [1, 399n],
    ]);
    expect(order?.subtotal?.amountMinor).toBe(2999n);
    expect(order?.shippingFee?.amountMinor).toBe(499n);
    expect(order?.total?.amountMinor).toBe(3498n);
    expect(payment?.orderId).toBe(order?.id);
    expect(order?.paymentId).toBe(payment?.id);
    expect(fakes.reservations.get(order!.id)?.items).toHaveLength(2);
    expect(fakes.cartOf(userId)).toBeUndefined();
  });

  test("the same idempotency key returns the same order, never a second one, even when retried concurrently", async () => {
    const { userId, client, productIds } = await customerWithCart([{ priceMinor: 500n, quantity: 1, units: 5 }]);
    const key = newKey();
    const results = await Promise.all([1, 2, 3].map(() => client.placeOrder({ idempotencyKey: key, shippingAddress: address })));
    const ids = new Set(results.map((result) => result.order?.id));
    expect(ids.size).toBe(1);
    expect(new Set(results.map((result) => result.payment?.id)).size).toBe(1);
    // What the three calls left behind: one order, one reservation holding one unit, one intent.
    expect((await client.listOrders({})).orders.map((order) => order.id)).toEqual([...ids]);
    const reservations = [...fakes.reservations.entries()].filter(([, reservation]) => reservation.items.some((item) => item.productId === productIds[0]));
    expect(reservations.map(([orderId]) => orderId)).toEqual([...ids]);
    expect(fakes.stock.get(productIds[0]!)).toBe(4);
    expect([...fakes.payments.values()].filter((payment) => payment.userId === userId).map((payment) => payment.id)).toEqual([results[0]!.payment?.id]);
  });

  test("when the cart says a line is short, then FAILED_PRECONDITION names its product, nothing is reserved and no order is written", async () => {
    const { client, productIds } = await customerWithCart([
      { priceMinor: 500n, quantity: 1 },
      { priceMinor: 500n, quantity: 3, units: 2 },
    ]);
    const reservesBefore = fakes.calls.reserve;
    const error = await expectCode(client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address }), Code.FailedPrecondition);
    expect(violations(error)).toEqual([{ type: "STOCK", subject: productIds[1] }]);
    expect(fakes.calls.reserve).toBe(reservesBefore);
    expect((await client.listOrders({})).orders).toHaveLength(0);
  });

  test("when the stock goes between the cart's look and the reservation, then inventory's products come back as order's FAILED_PRECONDITION and no order is written", async () => {
    const { client, productIds } = await customerWithCart([{ priceMinor: 500n, quantity: 3, units: 2 }]);
    fakes.cartStock("all in stock");
    try {
      const error = await expectCode(client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address }), Code.FailedPrecondition);
      expect(error.rawMessage).toBe("some items are out of stock");
      expect(violations(error)).toEqual([{ type: "STOCK", subject: productIds[0] }]);
    } finally {
      fakes.cartStock("live");
    }
    expect((await client.listOrders({})).orders).toHaveLength(0);
  });

  test("a downstream's failure is restated, not forwarded: inventory unreachable is UNAVAILABLE, inventory refusing the request is INTERNAL", async () => {
    const { client } = await customerWithCart([{ priceMinor: 500n, quantity: 1 }]);
    try {
      fakes.failReserve(new UnavailableError("inventory is restarting"));
      const unavailable = await expectCode(client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address }), Code.Unavailable);
      expect(unavailable.rawMessage).not.toContain("inventory is restarting");
      fakes.failReserve(new InvalidArgumentError("items[0].quantity: must be at most 99"));
      const internal = await expectCode(client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address }), Code.Internal);
      expect(internal.rawMessage).toBe("internal error");
    } finally {
      fakes.failReserve();
    }
    expect((await client.listOrders({})).orders).toHaveLength(0);
  });

  test("an empty cart is FAILED_PRECONDITION; no token is UNAUTHENTICATED; a bad address is INVALID_ARGUMENT", async () => {
    const { client } = await customer();
    await expectCode(client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address }), Code.FailedPrecondition);
    await expectCode(connectClient(OrderService, port).placeOrder({ idempotencyKey: newKey(), shippingAddress: address }), Code.Unauthenticated);
    await expectCode(client.placeOrder({ idempotencyKey: "short", shippingAddress: { ...address, countryCode: "Germany" } }), Code.InvalidArgument);
  });
});

describe("reacting to payment and delivery events", () => {
  test("payment succeeded -> PAID without a call to inventory; courier assigned and delivered -> DELIVERED; WatchOrder streams each step", async () => {
    const { userId, client } = await customerWithCart([{ priceMinor: 2000n, quantity: 1 }]);
    const { order } = await client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });
    const orderId = order!.id;

    const seen: OrderStatus[] = [];
    const watching = (async () => {
      for await (const update of client.watchOrder({ orderId })) {
        seen.push(update.order!.status);
        if (update.order!.status === OrderStatus.DELIVERED) return;
      }
    })();

    await publish(
      TOPICS.payment,
      orderId,
      PaymentSucceededSchema,
      create(PaymentSucceededSchema, { orderId, userId, paymentId: order!.paymentId, occurredTime: timestampNow() }),
    );
    await statusOf(client, orderId, OrderStatus.PAID);
    // inventory commits on the PAID event itself; order makes no call after PlaceOrder.
    expect(fakes.calls.commit).not.toContain(orderId);

    await publish(
      TOPICS.delivery,
      orderId,
      DeliveryAssignedSchema,
      create(DeliveryAssignedSchema, { orderId, deliveryId: "del-1", partnerId: "p-1", partnerName: "Swift", occurredTime: timestampNow() }),
    );
    await eventually(async () => ((await client.getOrder({ orderId })).order?.deliveryId === "del-1" ? true : undefined));
    await publish(
      TOPICS.delivery,
      orderId,
      DeliveryStatusChangedSchema,
      create(DeliveryStatusChangedSchema, {
        orderId,
        deliveryId: "del-1",
        oldStatus: DeliveryStatus.ASSIGNED,
        newStatus: DeliveryStatus.DELIVERED,
        occurredTime: timestampNow(),
      }),
    );
    await statusOf(client, orderId, OrderStatus.DELIVERED);
    await watching;
    expect(seen[0]).toBe(OrderStatus.PENDING);
    expect(seen).toContain(OrderStatus.PAID);
    expect(seen[seen.length - 1]).toBe(OrderStatus.DELIVERED);
  });

  test("payment failed -> PAYMENT_FAILED without a call to inventory; a late success changes nothing", async () => {
    const { userId, client } = await customerWithCart([{ priceMinor: 800n, quantity: 2 }]);
    const { order } = await client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });
    const orderId = order!.id;
    await publish(
      TOPICS.payment,
      orderId,
      PaymentFailedSchema,
      create(PaymentFailedSchema, { orderId, userId, reason: "card declined", occurredTime: timestampNow() }),
    );
    await statusOf(client, orderId, OrderStatus.PAYMENT_FAILED);
    expect(fakes.calls.release).not.toContain(orderId);

    await publish(TOPICS.payment, orderId, PaymentSucceededSchema, create(PaymentSucceededSchema, { orderId, userId, occurredTime: timestampNow() }));
    // A marker event on the same partition proves the late success was consumed before we look.
    await publish(
      TOPICS.delivery,
      orderId,
      DeliveryAssignedSchema,
      create(DeliveryAssignedSchema, { orderId, deliveryId: "marker", occurredTime: timestampNow() }),
    );
    await eventually(async () => ((await client.getOrder({ orderId })).order?.deliveryId === "marker" ? true : undefined));
    expect((await client.getOrder({ orderId })).order?.status).toBe(OrderStatus.PAYMENT_FAILED);
    expect(fakes.calls.commit).not.toContain(orderId);
  });
});

describe("cancelling and reading orders", () => {
  test("a customer cancels a pending order: CANCELLED without a call to inventory; cancelling again is a no-op", async () => {
    const { client } = await customerWithCart([{ priceMinor: 800n, quantity: 1 }]);
    const { order } = await client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });
    const { order: cancelled } = await client.cancelOrder({ orderId: order!.id, reason: "changed my mind" });
    expect(cancelled?.status).toBe(OrderStatus.CANCELLED);
    expect(cancelled?.cancelReason).toBe("changed my mind");
    expect(fakes.calls.release).not.toContain(order!.id);
    expect((await client.cancelOrder({ orderId: order!.id })).order?.status).toBe(OrderStatus.CANCELLED);
  });

  test("a shipped order cannot be cancelled", async () => {
    const { userId, client } = await customerWithCart([{ priceMinor: 800n, quantity: 1 }]);
    const { order } = await client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });
    const orderId = order!.id;
    await publish(TOPICS.payment, orderId, PaymentSucceededSchema, create(PaymentSucceededSchema, { orderId, userId, occurredTime: timestampNow() }));
    await statusOf(client, orderId, OrderStatus.PAID);
    await publish(
      TOPICS.delivery,
      orderId,
      DeliveryStatusChangedSchema,
      create(DeliveryStatusChangedSchema, {
        orderId,
        deliveryId: "d",
        oldStatus: DeliveryStatus.ASSIGNED,
        newStatus: DeliveryStatus.PICKED_UP,
        occurredTime: timestampNow(),
      }),
    );
    await statusOf(client, orderId, OrderStatus.SHIPPED);
    await expectCode(client.cancelOrder({ orderId }), Code.FailedPrecondition);
  });

  test("a customer sees only their own orders; an admin sees anyone's", async () => {
    const alice = await customerWithCart([{ priceMinor: 100n, quantity: 1 }]);
    const { order } = await alice.client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });
    const bob = await customer();
    await expectCode(bob.client.getOrder({ orderId: order!.id }), Code.NotFound);
    await expectCode(bob.client.cancelOrder({ orderId: order!.id }), Code.NotFound);
    expect((await bob.client.listOrders({})).orders).toHaveLength(0);
    const admin = connectClient(OrderService, port, { token: await tokens.token(randomUUID(), ["customer", "admin"]) });
    expect((await admin.getOrder({ orderId: order!.id })).order?.userId).toBe(alice.userId);
    expect((await admin.listOrders({ userId: alice.userId })).orders.map((o) => o.id)).toContain(order!.id);
  });

  test("ListOrders pages newest first with page tokens, without repeats; a forged token is INVALID_ARGUMENT", async () => {
    const who = await customer();
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const productId = randomUUID();
      fakes.addProduct(productId, `P${i}`, 100n, 10);
      fakes.fillCart(who.userId, [{ productId, quantity: 1 }]);
      placed.push((await who.client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address })).order!.id);
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await who.client.listOrders({ pageSize: 2, pageToken });
      seen.push(...page.orders.map((order) => order.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...placed].reverse());
    await expectCode(who.client.listOrders({ pageToken: "not-a-token" }), Code.InvalidArgument);
  });

  test("an order whose payment does not complete within the window is cancelled (inventory releases its stock on OrderCancelled)", async () => {
    const { client } = await customerWithCart([{ priceMinor: 100n, quantity: 1 }]);
    const { order } = await client.placeOrder({ idempotencyKey: newKey(), shippingAddress: address });
    // The payment window (an hour here) passes on the service's clock, then the sweeper runs.
    clock.aheadMs = 2 * 3600 * 1000;
    try {
      expect(await app.sweeper.sweepOnce()).toBeGreaterThanOrEqual(1);
    } finally {
      clock.aheadMs = 0;
    }
    const cancelled = await statusOf(client, order!.id, OrderStatus.CANCELLED);
    expect(cancelled.cancelReason).toBe("payment_timeout");
    expect(fakes.calls.release).not.toContain(order!.id);
  });
});
