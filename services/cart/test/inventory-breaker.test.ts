// Cart's circuit breaker toward inventory (breaker.test.ts covers the catalog side): a failing
// inventory opens it, an open breaker answers without the network, a half-open probe closes it.
import { Code, ConnectError } from "@connectrpc/connect";
import { eventually } from "@shopmesh/platform/testing";
import { startCartWithFakes, type CartWithFakes } from "./fakes.js";

const BREAKER_THRESHOLD = 3;
/** Long enough that the calls made while the breaker is open all land before it half-opens. */
const HALF_OPEN_AFTER_MS = 3_000;

let cart: CartWithFakes;

beforeAll(async () => {
  cart = await startCartWithFakes({
    BREAKER_THRESHOLD: String(BREAKER_THRESHOLD),
    BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_AFTER_MS),
    // Generous: this file is about failures inventory reports, not about deadlines.
    DOWNSTREAM_TIMEOUT_MS: "5000",
  });
});

afterAll(async () => {
  await cart?.stop();
});

/** Inventory calls so far, both methods cart uses. */
const inventoryCalls = () => (cart.inventory.calls.get("GetStock") ?? 0) + (cart.inventory.calls.get("BatchGetStock") ?? 0);

/** Runs `call` and expects cart's documented answer for an inventory it cannot reach. */
async function expectInventoryUnavailable(call: () => Promise<unknown>): Promise<void> {
  const error = await call().then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );
  expect(error && Code[error.code]).toBe(Code[Code.Unavailable]);
  expect(error?.rawMessage).toBe("inventory is unavailable; try again shortly");
}

test("when inventory keeps answering UNAVAILABLE, then the breaker opens, cart fails fast without calling it, and one half-open probe closes it once inventory is back", async () => {
  const { client } = await cart.newShopper();
  const product = cart.stockedProduct(10);
  await client.addItem({ productId: product.id, quantity: 1 });

  const beforeFailures = inventoryCalls();
  cart.inventory.failWith(Code.Unavailable);
  try {
    for (let call = 0; call < BREAKER_THRESHOLD; call++) await expectInventoryUnavailable(() => client.getCart({}));
    // Every failed attempt counts (cart retries idempotent reads): the breaker opens at the threshold and nothing passes after it.
    expect(inventoryCalls() - beforeFailures).toBe(BREAKER_THRESHOLD);

    // Open: neither read method reaches inventory, and cart still gives its documented answer.
    const whileOpen = inventoryCalls();
    await expectInventoryUnavailable(() => client.getCart({}));
    await expectInventoryUnavailable(() => client.addItem({ productId: product.id, quantity: 1 }));
    expect(inventoryCalls()).toBe(whileOpen);
  } finally {
    cart.inventory.failWith(undefined);
  }

  // Calls keep failing fast until the breaker half-opens; then exactly one probe reaches inventory, and it closes the breaker.
  const beforeProbe = inventoryCalls();
  const recovered = await eventually(
    async () => {
      const found = (await client.getCart({})).cart;
      return found?.lines.length === 1 ? found : undefined;
    },
    { timeoutMs: HALF_OPEN_AFTER_MS + 10_000, what: "cart to reach inventory again" },
  );
  expect(recovered.lines[0]?.inStock).toBe(true);
  expect(inventoryCalls()).toBe(beforeProbe + 1);

  // Closed: every call goes to inventory again.
  await client.getCart({});
  await client.addItem({ productId: product.id, quantity: 1 });
  expect(inventoryCalls()).toBe(beforeProbe + 1 + 3);
});
