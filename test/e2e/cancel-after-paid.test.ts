import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { eventually, MESH_SLOT_TIMEOUT_MS } from "@shopmesh/platform/testing";
import { startMesh, type Mesh } from "./mesh.js";
import { CARD_OK, openShop, type Shop } from "./shop.js";

/**
 * Cancelling a paid order, end to end with every service a real process: order only records
 * the cancellation; payment refunds on OrderCancelled and inventory returns the committed
 * stock on it. Neither is called by order.
 */
const SERVICES = ["identity", "catalog", "inventory", "cart", "order", "payment", "payment-provider-sim"];

let mesh: Mesh;
let shop: Shop;

beforeAll(async () => {
  mesh = await startMesh(SERVICES);
  shop = await openShop(mesh);
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await mesh?.stop();
}, 60_000);

test("when a customer cancels a paid order, then the payment is refunded with a balanced ledger, the order shows CANCELLED with the refund, and the stock is back", async () => {
  const customer = await shop.newCustomer();
  const productId = await shop.newProduct(2499n, 5);
  const { order, payment } = await shop.checkout(customer, productId, 2);
  const total = order.total!.amountMinor;

  await shop.confirmAtProvider(payment.providerIntentId, CARD_OK);
  await shop.orderWhere(customer, order.id, "PAID", (current) => current.status === OrderStatus.PAID);
  // inventory commits on the PAID event: the two units leave the warehouse.
  await eventually(async () => ((await shop.stockOf(productId)).onHand === 3 ? true : undefined), { timeoutMs: 30_000, what: "stock committed" });
  expect(await shop.stockOf(productId)).toEqual({ onHand: 3, reserved: 0, available: 3 });

  const { order: cancelled } = await customer.orders.cancelOrder({ orderId: order.id, reason: "changed my mind" });
  expect(cancelled?.status).toBe(OrderStatus.CANCELLED);

  expect(await shop.refundOutcome(customer, order.id, payment.id)).toEqual({
    order: { status: "CANCELLED", cancelReason: "changed my mind", refundedMinor: total },
    payment: { status: "REFUNDED", refundedMinor: total },
    ledger: [
      ["capture", 0],
      ["refund", 0],
    ],
  });

  await eventually(async () => ((await shop.stockOf(productId)).onHand === 5 ? true : undefined), { timeoutMs: 30_000, what: "stock returned" });
  expect(await shop.stockOf(productId)).toEqual({ onHand: 5, reserved: 0, available: 5 });
  const returned = await shop.query<{ n: number }>(
    "inventory",
    "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'shopmesh.events.v1.StockReturned' AND event_key = ?",
    [order.id],
  );
  expect(Number(returned[0]!.n)).toBe(1);
}, 120_000);
