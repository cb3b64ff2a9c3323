// The order handlers in memory, behind the real pipeline (auth from the contract, validation,
// error mapping), with the use cases and the store faked: who may see which order, paging,
// and what reaches the use cases. The component tests (test/) run the same over the network.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { OrderService, OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentStatus } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import type { Caller } from "@shopmesh/platform";
import { createTestTokens, inMemoryClient } from "@shopmesh/platform/testing";
import type { Orders } from "../orders.js";
import type { OrderRecord, OrderStore, ShippingAddress } from "../store/orders.js";
import { createOrderService } from "./order-service.js";

const ADDRESS: ShippingAddress = {
  recipientName: "Jane Shopper",
  line1: "1 Main St",
  line2: "",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
  phone: "",
};

function orderOf(userId: string, createdAt: Date, status = OrderStatus.PENDING): OrderRecord {
  return {
    id: randomUUID(),
    userId,
    userEmail: "jane@example.com",
    idempotencyKey: `key-${randomUUID()}`,
    status,
    currency: "EUR",
    subtotalMinor: 1_000n,
    shippingFeeMinor: 0n,
    totalMinor: 1_000n,
    shippingAddress: ADDRESS,
    paymentId: null,
    paymentStatus: PaymentStatus.UNSPECIFIED,
    refundedMinor: 0n,
    reservationExpiresAt: null,
    deliveryId: null,
    cancelReason: null,
    createdAt,
    updatedAt: createdAt,
    lines: [{ productId: randomUUID(), name: "Mug", quantity: 1, unitPriceMinor: 1_000n, lineTotalMinor: 1_000n }],
  };
}

/** The store's reads over a list, newest first as the SQL orders them. */
function fakeStore(rows: OrderRecord[]): OrderStore {
  const store: Pick<OrderStore, "get" | "list"> = {
    get: async (id) => rows.find((row) => row.id === id),
    list: async ({ userId, status, after, limit }) =>
      rows
        .filter((row) => (!userId || row.userId === userId) && (status === undefined || row.status === status))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id))
        .filter((row) => !after || row.createdAt < after.createdAt || (row.createdAt.getTime() === after.createdAt.getTime() && row.id < after.id))
        .slice(0, limit),
  };
  return store as OrderStore;
}

const jane = randomUUID();
const joe = randomUUID();
const rows = [0, 1, 2, 3, 4].map((minute) => orderOf(jane, new Date(Date.UTC(2026, 11, 1, 12, minute))));
const joesOrder = orderOf(joe, new Date(Date.UTC(2026, 11, 1, 13, 0)));
const placed: Array<{ caller: Caller; key: string; address: ShippingAddress }> = [];
const cancelled: Array<{ id: string; reason: string }> = [];
const useCases: Orders = {
  async place(caller, key, address) {
    placed.push({ caller, key, address });
    return { order: { ...rows[0]!, userId: caller.userId, idempotencyKey: key }, payment: undefined };
  },
  async cancel(order, reason) {
    cancelled.push({ id: order.id, reason });
    return { ...order, status: OrderStatus.CANCELLED, cancelReason: reason };
  },
};
const impl = createOrderService({
  useCases,
  orders: fakeStore([...rows, joesOrder]),
  updates: { listen: () => () => undefined, publish: async () => undefined },
  watchPollMs: 60_000,
  maxWatchesPerUser: 2,
});
let tokens: Awaited<ReturnType<typeof createTestTokens>>;
const as = async (userId: string, roles = ["customer"]) =>
  inMemoryClient(OrderService, impl, { verifier: tokens.verifier, token: await tokens.token(userId, roles) });

beforeAll(async () => {
  tokens = await createTestTokens();
});

async function codeOf(call: Promise<unknown>): Promise<Code> {
  return call.then(
    () => Code.Unknown,
    (err: unknown) => ConnectError.from(err).code,
  );
}

describe("PlaceOrder", () => {
  test("without a token the answer is UNAUTHENTICATED before any field is looked at, and nothing is placed", async () => {
    const anonymous = inMemoryClient(OrderService, impl, { verifier: tokens.verifier });
    expect(await codeOf(anonymous.placeOrder({ idempotencyKey: "short", shippingAddress: { ...ADDRESS, countryCode: "Germany" } }))).toBe(Code.Unauthenticated);
    expect(placed).toEqual([]);
  });

  test("a signed-in customer's invalid address is INVALID_ARGUMENT and reaches no use case", async () => {
    const client = await as(jane);
    expect(await codeOf(client.placeOrder({ idempotencyKey: `key-${randomUUID()}`, shippingAddress: { ...ADDRESS, countryCode: "Germany" } }))).toBe(
      Code.InvalidArgument,
    );
    expect(placed).toEqual([]);
  });

  test("the caller from the token, the key and the address reach the use case; its order is the answer", async () => {
    const key = `key-${randomUUID()}`;
    const { order } = await (await as(jane)).placeOrder({ idempotencyKey: key, shippingAddress: ADDRESS });
    expect(placed.map(({ caller, key: sent, address }) => ({ userId: caller.userId, sent, address }))).toEqual([{ userId: jane, sent: key, address: ADDRESS }]);
    expect(order).toMatchObject({ userId: jane, status: OrderStatus.PENDING, total: { currency: "EUR", amountMinor: 1_000n } });
  });
});

describe("who sees which order", () => {
  test("another customer's order is NOT_FOUND, worded as a missing one; an admin sees it", async () => {
    const asJane = await as(jane);
    const foreign = await asJane.getOrder({ orderId: joesOrder.id }).catch((err: unknown) => ConnectError.from(err));
    const missingId = randomUUID();
    const missing = await asJane.getOrder({ orderId: missingId }).catch((err: unknown) => ConnectError.from(err));
    expect([(foreign as ConnectError).code, (missing as ConnectError).code]).toEqual([Code.NotFound, Code.NotFound]);
    expect((foreign as ConnectError).rawMessage.replace(joesOrder.id, "ID")).toBe((missing as ConnectError).rawMessage.replace(missingId, "ID"));
    const { order } = await (await as(randomUUID(), ["customer", "admin"])).getOrder({ orderId: joesOrder.id });
    expect(order?.userId).toBe(joe);
  });

  test("a customer lists only their own orders and may not ask for someone else's", async () => {
    const asJoe = await as(joe);
    expect((await asJoe.listOrders({})).orders.map((order) => order.id)).toEqual([joesOrder.id]);
    expect(await codeOf(asJoe.listOrders({ userId: jane }))).toBe(Code.NotFound);
  });

  test("pages of two cover every order once, newest first, and a token only continues its own listing", async () => {
    const client = await as(jane);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.listOrders({ pageSize: 2, pageToken });
      seen.push(...page.orders.map((order) => order.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...rows].reverse().map((row) => row.id));
    const first = await client.listOrders({ pageSize: 2 });
    expect(await codeOf(client.listOrders({ pageSize: 2, pageToken: first.nextPageToken, status: OrderStatus.PAID }))).toBe(Code.InvalidArgument);
  });

  test("cancelling someone else's order is NOT_FOUND and cancels nothing; the owner's cancel gets the default reason", async () => {
    expect(await codeOf((await as(jane)).cancelOrder({ orderId: joesOrder.id }))).toBe(Code.NotFound);
    expect(cancelled).toEqual([]);
    const { order } = await (await as(joe)).cancelOrder({ orderId: joesOrder.id });
    expect(order?.status).toBe(OrderStatus.CANCELLED);
    expect(cancelled).toEqual([{ id: joesOrder.id, reason: "cancelled by customer" }]);
  });
});

describe("WatchOrder", () => {
  test("a customer holds at most the configured number of live streams; closing one frees its place", async () => {
    const client = await as(jane);
    const streams = [new AbortController(), new AbortController()];
    const snapshots = await Promise.all(
      streams.map(async (stop) => {
        const iterator = client.watchOrder({ orderId: rows[1]!.id }, { signal: stop.signal })[Symbol.asyncIterator]();
        return { iterator, first: await iterator.next() };
      }),
    );
    expect(snapshots.map(({ first }) => first.value?.eventType)).toEqual(["snapshot", "snapshot"]);
    const third = client.watchOrder({ orderId: rows[1]!.id })[Symbol.asyncIterator]();
    expect(
      await third.next().then(
        () => Code.Unknown,
        (err: unknown) => ConnectError.from(err).code,
      ),
    ).toBe(Code.ResourceExhausted);
    // Another customer is not affected.
    const joes = (await as(joe)).watchOrder({ orderId: joesOrder.id })[Symbol.asyncIterator]();
    expect((await joes.next()).value?.eventType).toBe("snapshot");
    await joes.return?.();
    streams[0]!.abort();
    await snapshots[0]!.iterator.next().catch(() => undefined);
    expect(await openWhenFree(() => client.watchOrder({ orderId: rows[1]!.id })[Symbol.asyncIterator]())).toBe("snapshot");
    streams[1]!.abort();
  });
});

/** The first message of a new stream, retried while the place a closed one held is being freed (the server sees the abort asynchronously). */
async function openWhenFree(open: () => AsyncIterator<{ eventType: string }>): Promise<string | undefined> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const stream = open();
    try {
      const first = await stream.next();
      await stream.return?.();
      return first.value?.eventType;
    } catch (err) {
      if (ConnectError.from(err).code !== Code.ResourceExhausted) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error("no place freed within 2 s");
}
