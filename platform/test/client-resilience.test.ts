import { randomUUID } from "node:crypto";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createGrpcClient, methodPolicy, NotFoundError, UnavailableError, type GrpcClient, type GrpcClientOptions } from "@shopmesh/platform";
import { createTestTokens, eventually, startStubServer, testLogger, type StubServer } from "@shopmesh/platform/testing";

// The subject is the client. The downstream is a real platform server answering the
// generated InventoryService, whose contract marks GetStock idempotent and AdjustStock not.
const getStockMethod = InventoryService.method.getStock;
const adjustStockMethod = InventoryService.method.adjustStock;

/** What the downstream does on each call of a method; counts every call that reached it. */
interface Script {
  calls: number;
  answer: (call: number, ctx: HandlerContext) => Promise<void>;
}
const succeed = async () => undefined;
const scripts = { getStock: { calls: 0, answer: succeed } as Script, adjustStock: { calls: 0, answer: succeed } as Script };

let downstream: StubServer;
let adminToken: string;
const clients: GrpcClient<typeof InventoryService>[] = [];

function inventoryClient(options: Partial<GrpcClientOptions> = {}): GrpcClient<typeof InventoryService> {
  const client = createGrpcClient(InventoryService, { address: `127.0.0.1:${downstream.port}`, logger: testLogger("resilience-client"), ...options });
  clients.push(client);
  return client;
}

async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ConnectError) return err.code;
    throw err;
  }
  throw new Error("the call succeeded");
}

beforeAll(async () => {
  const tokens = await createTestTokens();
  adminToken = await tokens.token(randomUUID(), ["admin"]);
  downstream = await startStubServer(
    InventoryService,
    {
      async getStock(request, ctx) {
        await scripts.getStock.answer(++scripts.getStock.calls, ctx);
        return { stockLevel: { productId: request.productId, onHand: 7, available: 7 } };
      },
      async adjustStock(request, ctx) {
        await scripts.adjustStock.answer(++scripts.adjustStock.calls, ctx);
        return { stockLevel: { productId: request.productId, onHand: request.delta } };
      },
    },
    { verifier: tokens.verifier },
  );
});

beforeEach(() => {
  scripts.getStock = { calls: 0, answer: succeed };
  scripts.adjustStock = { calls: 0, answer: succeed };
});

afterAll(async () => {
  clients.forEach((client) => client.close());
  await downstream?.stop();
});

describe("retries follow the contract's idempotency", () => {
  test("the contract under test marks GetStock idempotent and AdjustStock not", () => {
    expect(methodPolicy(getStockMethod).idempotent).toBe(true);
    expect(methodPolicy(adjustStockMethod).idempotent).toBe(false);
  });

  test("when an idempotent method answers UNAVAILABLE twice, then the client retries and the caller gets the third answer", async () => {
    scripts.getStock.answer = async (call) => {
      if (call <= 2) throw new UnavailableError("restarting");
    };
    const { stockLevel } = await inventoryClient({ maxRetries: 2 }).getStock({ productId: randomUUID() });
    expect(stockLevel?.onHand).toBe(7);
    expect(scripts.getStock.calls).toBe(3);
  });

  test.each([
    {
      error: "UNAVAILABLE",
      fail: () => new UnavailableError("down"),
      code: Code.Unavailable,
      attempts: 3,
      then: "retried maxRetries (2) times and the caller gets UNAVAILABLE",
    },
    { error: "NOT_FOUND (a caller error)", fail: () => new NotFoundError("no such product"), code: Code.NotFound, attempts: 1, then: "not retried" },
  ])("when an idempotent method keeps failing with $error, then it is $then", async ({ fail, code, attempts }) => {
    scripts.getStock.answer = async () => {
      throw fail();
    };
    expect(await codeOf(inventoryClient({ maxRetries: 2 }).getStock({ productId: randomUUID() }))).toBe(code);
    expect(scripts.getStock.calls).toBe(attempts);
  });

  test("when a method the contract does not mark idempotent answers UNAVAILABLE, then it is sent once and the caller gets UNAVAILABLE", async () => {
    scripts.adjustStock.answer = async (call) => {
      if (call === 1) throw new UnavailableError("restarting");
    };
    const client = inventoryClient({ maxRetries: 2 });
    const adjusted = client.adjustStock(
      { productId: randomUUID(), delta: 5, reason: "supplier delivery" },
      { headers: { authorization: `Bearer ${adminToken}` } },
    );
    expect(await codeOf(adjusted)).toBe(Code.Unavailable);
    expect(scripts.adjustStock.calls).toBe(1);
  });

  test("when a downstream drops a call it was not asked to cancel (CANCELLED), then the caller gets UNAVAILABLE, which it may retry", async () => {
    scripts.adjustStock.answer = async () => {
      throw new ConnectError("stream reset", Code.Canceled);
    };
    const adjusted = inventoryClient().adjustStock(
      { productId: randomUUID(), delta: 5, reason: "supplier delivery" },
      { headers: { authorization: `Bearer ${adminToken}` } },
    );
    expect(await codeOf(adjusted)).toBe(Code.Unavailable);
    expect(scripts.adjustStock.calls).toBe(1);
  });

  test("when an idempotent call is retried, then the retry shares the caller's deadline rather than starting a new budget", async () => {
    const SLOW_FAILURE_MS = 600;
    const seen: number[] = [];
    scripts.getStock.answer = async (call, ctx) => {
      seen.push(Date.now() + (ctx.timeoutMs() ?? Infinity));
      if (call === 1) {
        // A slow failure: the downstream works a while, then gives up.
        await new Promise((resolve) => setTimeout(resolve, SLOW_FAILURE_MS));
        throw new UnavailableError("gave up");
      }
      // The retry works until the caller stops waiting.
      await new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
    };
    const deadline = Date.now() + 1_500;
    const call = inventoryClient({ maxRetries: 5 }).getStock({ productId: randomUUID() }, { timeoutMs: 1_500 });
    expect(await codeOf(call)).toBe(Code.DeadlineExceeded);
    expect(seen).toHaveLength(2);
    // Transit and event-loop lag stay well under the gap a fresh budget would open (SLOW_FAILURE_MS).
    for (const observed of seen) expect(observed).toBeLessThanOrEqual(deadline + SLOW_FAILURE_MS / 2);
  });
});

describe("the bulkhead", () => {
  function holdGetStock() {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    scripts.getStock.answer = () => released;
    return release;
  }

  test("when calls up to the limit are in flight at once, then all of them pass", async () => {
    const release = holdGetStock();
    const client = inventoryClient({ maxConcurrent: 3 });
    const calls = [1, 2, 3].map(() => client.getStock({ productId: randomUUID() }));
    await eventually(async () => (scripts.getStock.calls === 3 ? true : undefined), { what: "three calls at the downstream" });
    release();
    expect((await Promise.all(calls)).map((response) => response.stockLevel?.onHand)).toEqual([7, 7, 7]);
  });

  test("when the limit is reached, then a further call is rejected with UNAVAILABLE without reaching the downstream, and passes once a slot is free", async () => {
    const release = holdGetStock();
    const client = inventoryClient({ maxConcurrent: 2 });
    const held = [1, 2].map(() => client.getStock({ productId: randomUUID() }));
    await eventually(async () => (scripts.getStock.calls === 2 ? true : undefined), { what: "two calls at the downstream" });

    const rejected = client.getStock({ productId: randomUUID() });
    await expect(rejected).rejects.toMatchObject({ code: Code.Unavailable, rawMessage: expect.stringContaining("overloaded") });
    expect(scripts.getStock.calls).toBe(2);

    release();
    await Promise.all(held);
    await expect(client.getStock({ productId: randomUUID() })).resolves.toMatchObject({ stockLevel: { onHand: 7 } });
    expect(scripts.getStock.calls).toBe(3);
  });
});
