import { eventually, MESH_SLOT_TIMEOUT_MS } from "@shopmesh/platform/testing";
import { startMesh, type Mesh } from "./mesh.js";
import { openShop, type Shop } from "./shop.js";

/**
 * A payment that completes after the order's payment deadline, end to end. Here the deadline
 * is 5 s (ORDER_PAYMENT_WINDOW_SECONDS) and the customer pays with the provider's slow card,
 * which settles 8 s after confirmation: the money always arrives after the deadline. Either
 * the sweeper has cancelled the order by then (payment heard OrderCancelled first, then books
 * the success and refunds it), or, with the sweeper off, order cancels the order on the late
 * PaymentSucceeded (payment then refunds on OrderCancelled). Either way nobody has to ask.
 */
const SERVICES = ["identity", "catalog", "inventory", "cart", "order", "payment", "payment-provider-sim"];
const CARD_SLOW_OK = "4000000000000259";

let mesh: Mesh;
let shop: Shop;

beforeAll(async () => {
  mesh = await startMesh(SERVICES, {
    order: { ORDER_PAYMENT_WINDOW_SECONDS: "5", ORDER_SWEEP_INTERVAL_MS: "200" },
    "payment-provider-sim": { PAYMENT_SIM_SLOW_CARD_DELAY_MS: "8000" },
  });
  shop = await openShop(mesh);
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await mesh?.stop();
}, 60_000);

/** Places an order, pays it with the slow card and checks the outcome: cancelled, refunded, no stock committed. */
async function payAfterTheDeadline() {
  const customer = await shop.newCustomer();
  const productId = await shop.newProduct(1999n, 4);
  const { order, payment } = await shop.checkout(customer, productId, 1);
  const total = order.total!.amountMinor;
  expect(await shop.stockOf(productId)).toEqual({ onHand: 4, reserved: 1, available: 3 });

  await shop.confirmAtProvider(payment.providerIntentId, CARD_SLOW_OK);

  expect(await shop.refundOutcome(customer, order.id, payment.id)).toEqual({
    order: { status: "CANCELLED", cancelReason: "payment_timeout", refundedMinor: total },
    payment: { status: "REFUNDED", refundedMinor: total },
    ledger: [
      ["capture", 0],
      ["refund", 0],
    ],
  });

  // inventory released the reservation on OrderCancelled; nothing was ever committed.
  await eventually(async () => ((await shop.stockOf(productId)).reserved === 0 ? true : undefined), { timeoutMs: 30_000, what: "reservation released" });
  expect(await shop.stockOf(productId)).toEqual({ onHand: 4, reserved: 0, available: 4 });
  const stockEvents = await shop.query<{ event_type: string }>("inventory", "SELECT event_type FROM outbox WHERE event_key = ? ORDER BY id", [order.id]);
  expect(stockEvents.map((row) => row.event_type)).toEqual(["shopmesh.events.v1.StockReserved", "shopmesh.events.v1.StockReservationReleased"]);
}

test(
  "when the order is swept at its deadline and the slow payment settles later, then payment refunds the late success by itself",
  payAfterTheDeadline,
  120_000,
);

test("when the payment completes before the sweeper noticed the deadline, then order cancels instead of paying, and payment refunds", async () => {
  // Without its sweeper, only the deadline check on PaymentSucceeded can cancel the order.
  await mesh.processes.get("order")!.stop();
  await mesh.start("order", { ORDER_SWEEP_INTERVAL_MS: "600000" });
  await payAfterTheDeadline();
}, 120_000);
