// The checkout load of a chaos run: an open model (customers arrive at a fixed rate whether or
// not earlier ones are done, as on a real shop) through the edge, each customer behaving like a
// careful real client: the same idempotency key on every retry of PlaceOrder, a retry after
// UNAVAILABLE, DEADLINE_EXCEEDED or a lost answer, and an idempotent cart write after a retry.
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { OrderService } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import type { CheckoutRecord } from "./invariants.js";

export const CARD_OK = "4242424242424242";
export const CARD_DECLINED = "4000000000000002";
const ADDRESS = { recipientName: "Chaos Shopper", line1: "1 Invalidenstr.", city: "Berlin", postalCode: "10115", countryCode: "DE" };

/** What a client retries: the request may not have been applied, or it was and the answer was lost. */
const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Aborted, Code.ResourceExhausted, Code.Internal]);
/** Each attempt's deadline, and how long a customer keeps retrying one step before giving up. */
const ATTEMPT_TIMEOUT_MS = 5_000;
const STEP_BUDGET_MS = 45_000;

function client<S extends DescService>(service: S, baseUrl: string, token?: string): Client<S> {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    useBinaryFormat: true,
    interceptors: token
      ? [
          (next) => (request) => {
            request.header.set("authorization", `Bearer ${token}`);
            return next(request);
          },
        ]
      : [],
  });
  return createClient(service, transport);
}

export interface Customer {
  userId: string;
  email: string;
  token: string;
}

/** Registers `count` customers (the sign-up and sign-in happen before the measured window). */
export async function registerCustomers(identityUrl: string, count: number, concurrency = 4): Promise<Customer[]> {
  const identity = client(IdentityService, identityUrl);
  const customers: Customer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const email = `chaos-${randomBytes(6).toString("hex")}@example.com`;
        const { tokens, user } = await identity.register({ email, password: "correct horse battery", displayName: "Chaos Shopper" });
        customers.push({ userId: user!.id, email, token: tokens!.accessToken });
      }
    }),
  );
  return customers;
}

export interface LoadOptions {
  /** The edge's base URL (Envoy); every shop call goes through it. */
  edgeUrl: string;
  /** The provider simulator's base URL (the customer's browser pays there, not through the shop). */
  providerUrl: string;
  customers: Customer[];
  /** Products to buy, one line of quantity 1 each checkout. */
  productIds: string[];
  ratePerSecond: number;
  durationMs: number;
  /** Every n-th customer pays with a declined card (the saga's failure path under the fault too). */
  declineEvery?: number;
}

export interface LoadResult {
  /** Checkouts started (the arrivals). */
  sent: number;
  /** PlaceOrder answered with an order. */
  acknowledged: CheckoutRecord[];
  /** Checkouts that ended in an error the customer saw, by the last status code (`ok` never appears). */
  clientErrors: Record<string, number>;
  /** Attempts retried (the client's work the fault caused; not an error the customer saw). */
  retries: number;
  /** Orders the shop refused for a business reason (out of stock): an answer, not a failure. */
  refused: number;
  /** Searches answered by the database because the search engine was away (an answer, degraded). */
  degradedSearches: number;
}

class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly code: string,
  ) {
    super(`${step}: ${code}`);
  }
}

/**
 * Runs the open-model load: one checkout starts every 1/rate seconds for `durationMs`, each on
 * a customer of its own. Resolves when every started checkout has finished (or given up).
 */
export async function runCheckoutLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, acknowledged: [], clientErrors: {}, retries: 0, refused: 0, degradedSearches: 0 };
  const total = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
  if (options.customers.length < total) throw new Error(`the load needs ${total} customers, got ${options.customers.length}`);

  /** Runs one step with a real client's retries; NotFound etc. are answers the caller handles. */
  async function withRetries<T>(step: string, attempt: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + STEP_BUDGET_MS;
    for (let backoff = 200; ; backoff = Math.min(backoff * 2, 2_000)) {
      try {
        return await attempt();
      } catch (err) {
        const code = err instanceof ConnectError ? err.code : Code.Unknown;
        if (!RETRYABLE.has(code) || Date.now() + backoff > giveUpAt) throw new StepFailed(step, Code[code]);
        result.retries++;
        await new Promise((resolve) => setTimeout(resolve, backoff * (0.5 + Math.random() / 2)));
      }
    }
  }

  /** Confirms the intent; true when the provider took it (the outcome follows by webhook). */
  async function confirmAtProvider(intentId: string, card: string): Promise<boolean> {
    const giveUpAt = Date.now() + STEP_BUDGET_MS;
    let answerLost = false;
    for (let backoff = 200; ; backoff = Math.min(backoff * 2, 2_000)) {
      try {
        const response = await fetch(`${options.providerUrl}/v1/payment_intents/${intentId}/confirm`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ card_number: card }),
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return true;
        // A confirm retried after a lost answer finds the intent already taken.
        if (response.status === 409 && answerLost) {
          const intent = (await (await fetch(`${options.providerUrl}/v1/payment_intents/${intentId}`)).json()) as { status?: string };
          return intent.status !== "requires_confirmation";
        }
        throw new StepFailed("confirm", `http_${response.status}`);
      } catch (err) {
        if (err instanceof StepFailed || Date.now() + backoff > giveUpAt) throw err instanceof StepFailed ? err : new StepFailed("confirm", "network");
        answerLost = true;
        result.retries++;
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  async function checkout(customer: Customer, n: number): Promise<void> {
    const productId = options.productIds[n % options.productIds.length]!;
    const catalog = client(CatalogService, options.edgeUrl);
    const cart = client(CartService, options.edgeUrl, customer.token);
    const orders = client(OrderService, options.edgeUrl, customer.token);
    const call = { timeoutMs: ATTEMPT_TIMEOUT_MS };
    try {
      await fillAndPlace();
    } catch (err) {
      // Sold out (at AddItem or at PlaceOrder) is the shop's answer, not a failure.
      if (err instanceof StepFailed && err.code === Code[Code.FailedPrecondition]) {
        result.refused++;
        return;
      }
      const code = err instanceof StepFailed ? `${err.step}: ${err.code}` : `unexpected: ${(err as Error).message.slice(0, 80)}`;
      result.clientErrors[code] = (result.clientErrors[code] ?? 0) + 1;
    }

    async function fillAndPlace(): Promise<void> {
      // A shopper searches first (the engine, or the database when it is away).
      const found = await withRetries("search", () => catalog.searchProducts({ query: "chaos product", pageSize: 5 }, call));
      if (found.degraded) result.degradedSearches++;
      // AddItem is not idempotent: once an attempt may have landed, set the quantity instead.
      let mayHaveLanded = false;
      await withRetries("add item", async () => {
        if (!mayHaveLanded) {
          mayHaveLanded = true;
          await cart.addItem({ productId, quantity: 1 }, call);
          return;
        }
        try {
          await cart.updateItemQuantity({ productId, quantity: 1 }, call);
        } catch (err) {
          if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
          await cart.addItem({ productId, quantity: 1 }, call);
        }
      });
      const idempotencyKey = `chaos-${randomBytes(8).toString("hex")}`;
      const placed = await withRetries("place order", () => orders.placeOrder({ idempotencyKey, shippingAddress: ADDRESS }, call));
      const order = placed.order!;
      const card = options.declineEvery && n % options.declineEvery === options.declineEvery - 1 ? CARD_DECLINED : CARD_OK;
      const record: CheckoutRecord = { orderId: order.id, userId: customer.userId, email: customer.email, productId, quantity: 1, paid: false };
      result.acknowledged.push(record);
      record.paid = (await confirmAtProvider(placed.payment!.providerIntentId, card)) && card === CARD_OK;
    }
  }

  const started = Date.now();
  const running: Array<Promise<void>> = [];
  for (let n = 0; n < total; n++) {
    // Open model: the n-th arrival is due at n/rate, however the earlier ones are doing.
    const due = started + (n * 1000) / options.ratePerSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    result.sent++;
    running.push(checkout(options.customers[n]!, n));
  }
  await Promise.all(running);
  return result;
}
