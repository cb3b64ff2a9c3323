import { randomBytes, randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeliveryService, DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createGrpcClient } from "@shopmesh/platform";
import { eventually, expectCode, grpcClient, MESH_SLOT_TIMEOUT_MS, testLogger } from "@shopmesh/platform/testing";
import { startMesh, type Mesh } from "./mesh.js";
import { address, CARD_DECLINED, CARD_OK, openShop, type Shop } from "./shop.js";

/**
 * The checkout saga end to end, every service a real process on the real MariaDB, Redis,
 * Kafka and Mailpit: register, cart, PlaceOrder, confirm at the provider simulator, signed
 * webhook, PaidPayment events, stock commit, courier assignment, emails, delivery.
 */
const SERVICES = ["identity", "catalog", "inventory", "cart", "order", "payment", "payment-provider-sim", "delivery", "notification"];
let mesh: Mesh;
let shop: Shop;

beforeAll(async () => {
  // Mutual TLS between every service, as npm start runs them: each hop of the saga below proves it.
  mesh = await startMesh(SERVICES, {}, { meshTls: true });
  shop = await openShop(mesh);
  await shop.client(DeliveryService, "delivery", shop.adminToken).createPartner({
    partner: {
      name: "Berlin Bikes",
      contactEmail: "dispatch@berlin-bikes.example",
      available: true,
      serviceAreaPrefixes: ["10"],
      dailyCapacity: 100,
      maxOrderItems: 0,
    },
  });
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await mesh?.stop();
}, 60_000);

test("happy path: order PAID, stock decremented once, courier assigned, customer emailed, delivered", async () => {
  const customer = await shop.newCustomer();
  const productId = await shop.newProduct(2499n, 5);
  const { order, payment } = await shop.checkout(customer, productId, 2);
  expect(order.total?.amountMinor).toBe(BigInt(2 * 2499 + 499));
  expect((await shop.stockOf(productId)).reserved).toBe(2);

  await shop.confirmAtProvider(payment.providerIntentId, CARD_OK);
  await shop.orderIn(customer, order.id, OrderStatus.PAID);
  // inventory commits on the PAID event, a moment after the order shows it.
  const stock = await eventually(
    async () => {
      const level = await shop.stockOf(productId);
      return level.reserved === 0 ? level : undefined;
    },
    { what: "stock committed" },
  );
  expect([stock.onHand, stock.reserved]).toEqual([3, 0]);

  const assigned = await eventually(
    async () => {
      const { order: current } = await customer.orders.getOrder({ orderId: order.id });
      return current?.deliveryId ? current : undefined;
    },
    { timeoutMs: 30_000, what: "courier assigned" },
  );
  await eventually(async () => ((await shop.emailsTo(customer.email)).some((subject) => subject.startsWith("Payment confirmed")) ? true : undefined), {
    timeoutMs: 30_000,
    what: "payment confirmation email",
  });

  const courier = shop.client(DeliveryService, "delivery", shop.adminToken);
  for (const status of [DeliveryStatus.PICKED_UP, DeliveryStatus.IN_TRANSIT, DeliveryStatus.DELIVERED]) {
    await courier.updateDeliveryStatus({ deliveryId: assigned.deliveryId, status });
  }
  await shop.orderIn(customer, order.id, OrderStatus.DELIVERED);
  expect((await shop.stockOf(productId)).onHand).toBe(3);
}, 120_000);

test("a declined card: PAYMENT_FAILED, the reservation released, the customer told", async () => {
  const customer = await shop.newCustomer();
  const productId = await shop.newProduct(999n, 3);
  const { order, payment } = await shop.checkout(customer, productId, 1);
  await shop.confirmAtProvider(payment.providerIntentId, CARD_DECLINED);
  await shop.orderIn(customer, order.id, OrderStatus.PAYMENT_FAILED);
  const stock = await eventually(
    async () => {
      const level = await shop.stockOf(productId);
      return level.reserved === 0 ? level : undefined;
    },
    { what: "reservation released" },
  );
  expect([stock.onHand, stock.reserved, stock.available]).toEqual([3, 0, 3]);
  await eventually(async () => ((await shop.emailsTo(customer.email)).some((subject) => subject.startsWith("Payment failed")) ? true : undefined), {
    timeoutMs: 30_000,
    what: "payment failed email",
  });
}, 120_000);

test("the provider sends the webhook three times and out of order: one ledger entry set, one success, one stock decrement, one email", async () => {
  const customer = await shop.newCustomer();
  const productId = await shop.newProduct(1500n, 4);
  const { order, payment } = await shop.checkout(customer, productId, 1);
  await shop.setProviderBehaviour({ duplicate_webhooks: 3, out_of_order: true });
  try {
    await shop.confirmAtProvider(payment.providerIntentId, CARD_OK);
    await shop.orderIn(customer, order.id, OrderStatus.PAID);
    await eventually(async () => ((await shop.emailsTo(customer.email)).some((subject) => subject.startsWith("Payment confirmed")) ? true : undefined), {
      timeoutMs: 30_000,
      what: "payment confirmation email",
    });
    // Let every copy land before counting: 3 copies each of "processing" and "succeeded".
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${mesh.ports["payment-provider-sim"]}/v1/test/webhooks`);
        const { deliveries } = (await response.json()) as { deliveries: Array<{ intent_id: string; status: string }> };
        const mine = deliveries.filter((delivery) => delivery.intent_id === payment.providerIntentId);
        return mine.length >= 6 && mine.every((delivery) => delivery.status === "delivered") ? mine.length : undefined;
      },
      { timeoutMs: 30_000, what: "all duplicate webhooks delivered" },
    );
  } finally {
    await shop.setProviderBehaviour({});
  }
  const groups = await shop.query<{ n: number }>("payment", "SELECT COUNT(DISTINCT entry_group_id) AS n FROM ledger_entries WHERE payment_id = ?", [
    payment.id,
  ]);
  expect(Number(groups[0]!.n)).toBe(1);
  const sums = await shop.query<{ total: string }>("payment", "SELECT COALESCE(SUM(amount_minor), 0) AS total FROM ledger_entries WHERE payment_id = ?", [
    payment.id,
  ]);
  expect(Number(sums[0]!.total)).toBe(0);
  const succeeded = await shop.query<{ n: number }>(
    "payment",
    "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'shopmesh.events.v1.PaymentSucceeded' AND event_key = ?",
    [order.id],
  );
  expect(Number(succeeded[0]!.n)).toBe(1);
  await eventually(async () => ((await shop.stockOf(productId)).reserved === 0 ? true : undefined), { what: "stock committed" });
  expect((await shop.stockOf(productId)).onHand).toBe(3);
  expect((await shop.emailsTo(customer.email)).filter((subject) => subject.startsWith("Payment confirmed"))).toHaveLength(1);
}, 120_000);

test("the order relay dies after the commit and before publishing: after a restart the event is delivered exactly once", async () => {
  const customer = await shop.newCustomer();
  const productId = await shop.newProduct(700n, 2);
  await mesh.processes.get("order")!.stop();
  await mesh.start("order", { OUTBOX_RELAY_ENABLED: "false" });
  const { order } = await shop.checkout(customer, productId, 1);
  const pending = await shop.query<{ n: number }>("order", "SELECT COUNT(*) AS n FROM outbox WHERE event_key = ? AND published_at IS NULL", [order.id]);
  expect(Number(pending[0]!.n)).toBe(1);

  await mesh.processes.get("order")!.kill(); // the crash
  await mesh.start("order");
  await eventually(
    async () => {
      const rows = await shop.query<{ n: number }>("order", "SELECT COUNT(*) AS n FROM outbox WHERE event_key = ? AND published_at IS NULL", [order.id]);
      return Number(rows[0]!.n) === 0 ? true : undefined;
    },
    { what: "outbox drained after restart" },
  );
  // Downstream effect of OrderPlaced, applied once: the "order received" email.
  await eventually(async () => ((await shop.emailsTo(customer.email)).some((subject) => subject.startsWith("We received your order")) ? true : undefined), {
    timeoutMs: 30_000,
    what: "order received email",
  });
  // A marker behind OrderPlaced on its partition: cancelling publishes OrderCancelled with the same
  // key. Once notification has queued that email, a second copy of OrderPlaced has been consumed too.
  await customer.orders.cancelOrder({ orderId: order.id });
  const queuedTemplates = async () =>
    (await shop.query<{ template_key: string }>("notification", "SELECT template_key FROM notifications WHERE recipient = ?", [customer.email])).map(
      (row) => row.template_key,
    );
  await eventually(async () => ((await queuedTemplates()).includes("order.cancelled") ? true : undefined), {
    timeoutMs: 30_000,
    what: "the marker's email queued",
  });
  expect((await queuedTemplates()).filter((template) => template === "order.placed")).toHaveLength(1);
  expect((await shop.emailsTo(customer.email)).filter((subject) => subject.startsWith("We received your order"))).toHaveLength(1);
}, 120_000);

test("PlaceOrder retried with the same key returns the same order; two customers racing for the last unit: one wins, one gets FAILED_PRECONDITION", async () => {
  const first = await shop.newCustomer();
  const productId = await shop.newProduct(1200n, 1);
  await first.cart.addItem({ productId, quantity: 1 });
  const key = `e2e-${randomBytes(6).toString("hex")}`;
  const once = await first.orders.placeOrder({ idempotencyKey: key, shippingAddress: address });
  const again = await first.orders.placeOrder({ idempotencyKey: key, shippingAddress: address });
  expect(again.order?.id).toBe(once.order?.id);
  expect(again.payment?.id).toBe(once.payment?.id);
  await first.orders.cancelOrder({ orderId: once.order!.id });
  // inventory releases the reservation on OrderCancelled.
  await eventually(async () => ((await shop.stockOf(productId)).available === 1 ? true : undefined), { what: "reservation released" });

  const racers = await Promise.all([shop.newCustomer(), shop.newCustomer()]);
  for (const racer of racers) await racer.cart.addItem({ productId, quantity: 1 });
  const results = await Promise.allSettled(
    racers.map((racer) => racer.orders.placeOrder({ idempotencyKey: `race-${randomBytes(6).toString("hex")}`, shippingAddress: address })),
  );
  const won = results.filter((result) => result.status === "fulfilled");
  const lost = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(1);
  expect(ConnectError.from(lost[0]!.reason).code).toBe(Code.FailedPrecondition);
  expect((await shop.stockOf(productId)).available).toBe(0);
}, 120_000);

describe("the mesh's identities (mutual TLS between the services)", () => {
  const reservation = () => ({ orderId: randomUUID(), items: [{ productId: randomUUID(), quantity: 1 }], ttlSeconds: 600 });
  const stubAs = (name: string, server = "inventory") =>
    createGrpcClient(InventoryService, {
      address: `127.0.0.1:${mesh.ports["inventory"]}`,
      logger: testLogger("mesh-identities"),
      defaultTimeoutMs: 3_000,
      maxRetries: 0,
      meshTls: { ...mesh.pki!.ensure(name, 600), server },
    });

  test("when a process without a mesh certificate calls inventory over gRPC, then it gets no answer at all; Connect from the edge's side still cannot reach internal RPCs", async () => {
    const plain = grpcClient(InventoryService, mesh.ports["inventory"]!);
    try {
      await expectCode(plain.reserveStock(reservation(), { timeoutMs: 3_000 }), Code.Unavailable);
    } finally {
      plain.close();
    }
    await expectCode(shop.client(InventoryService, "inventory").reserveStock(reservation()), Code.PermissionDenied);
  });

  test("when cart (a real mesh identity, not in ReserveStock's callers) reserves stock, then PERMISSION_DENIED; the operator identity may release, as its contract says", async () => {
    const cart = stubAs("cart");
    try {
      const refused = await expectCode(cart.reserveStock(reservation()), Code.PermissionDenied);
      expect(refused.rawMessage).toBe("cart may not call this method");
    } finally {
      cart.close();
    }
    const operator = stubAs("operator");
    try {
      // An unknown reservation: the call got past the identity check to the handler.
      await expectCode(operator.releaseReservation({ orderId: randomUUID(), reason: "operator check" }), Code.NotFound);
    } finally {
      operator.close();
    }
  });
});
