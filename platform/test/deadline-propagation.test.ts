import { randomUUID } from "node:crypto";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { InventoryService, type GetStockRequest } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createGrpcClient, type GrpcClient } from "@shopmesh/platform";
import { eventually, startStubServer, testLogger, type StubServer } from "@shopmesh/platform/testing";

// A calls B calls C, each a real platform server whose handler makes the next hop with the
// platform client. The hops' own default budget is far longer than the caller's, so only
// propagation can explain a short deadline downstream.
const HOP_DEFAULT_TIMEOUT_MS = 30_000;
/** Transit, rounding and event-loop lag across the hops; a lost deadline would be off by ~28 s. */
const TOLERANCE_MS = 1_000;

type Hop = "a" | "b" | "c";
/** The absolute deadline each hop saw (epoch ms), and what became of C's work. */
let seen: Partial<Record<Hop, number>>;
let cWork: { started: boolean; finished: boolean; cancelledWith?: unknown };
let cAnswer: (ctx: HandlerContext) => Promise<void>;

const servers: StubServer[] = [];
const clients: GrpcClient<typeof InventoryService>[] = [];

function clientOf(port: number): GrpcClient<typeof InventoryService> {
  const client = createGrpcClient(InventoryService, {
    address: `127.0.0.1:${port}`,
    logger: testLogger("deadline-client"),
    defaultTimeoutMs: HOP_DEFAULT_TIMEOUT_MS,
  });
  clients.push(client);
  return client;
}

const deadlineOf = (ctx: HandlerContext) => Date.now() + (ctx.timeoutMs() ?? Infinity);

/** A hop that records its deadline and passes the request on to `next`. */
async function startForwardingHop(hop: Hop, next: StubServer): Promise<StubServer> {
  const downstream = clientOf(next.port);
  const server = await startStubServer(
    InventoryService,
    {
      async getStock(request: GetStockRequest, ctx) {
        seen[hop] = deadlineOf(ctx);
        return downstream.getStock({ productId: request.productId });
      },
    },
    { name: `hop-${hop}` },
  );
  servers.push(server);
  return server;
}

let a: StubServer;

beforeAll(async () => {
  const c = await startStubServer(
    InventoryService,
    {
      async getStock(request, ctx) {
        seen.c = deadlineOf(ctx);
        cWork.started = true;
        await cAnswer(ctx);
        cWork.finished = true;
        return { stockLevel: { productId: request.productId, onHand: 3, available: 3 } };
      },
    },
    { name: "hop-c" },
  );
  servers.push(c);
  a = await startForwardingHop("a", await startForwardingHop("b", c));
});

beforeEach(() => {
  seen = {};
  cWork = { started: false, finished: false };
  cAnswer = async () => undefined;
});

afterAll(async () => {
  clients.forEach((client) => client.close());
  await Promise.all(servers.map((server) => server.stop()));
});

describe("deadline propagation across hops", () => {
  test("when A is called with a deadline, then B and C observe that deadline (less what has elapsed), not their own defaults", async () => {
    const deadline = Date.now() + 2_000;
    const { stockLevel } = await clientOf(a.port).getStock({ productId: randomUUID() }, { timeoutMs: 2_000 });
    expect(stockLevel?.onHand).toBe(3);
    for (const hop of ["a", "b", "c"] as const) {
      expect(seen[hop]).toBeDefined();
      expect(seen[hop]!).toBeLessThanOrEqual(deadline + TOLERANCE_MS);
    }
  });

  test("when the deadline passes while C works, then the caller gets DEADLINE_EXCEEDED and C's work is cancelled", async () => {
    cAnswer = (ctx) =>
      new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          cWork.cancelledWith = ctx.signal.reason;
          reject(ctx.signal.reason);
        });
      });
    const call = clientOf(a.port).getStock({ productId: randomUUID() }, { timeoutMs: 500 });
    await expect(call).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect(cWork.started).toBe(true);
    const reason = await eventually(async () => cWork.cancelledWith, { timeoutMs: 5_000, what: "C's work to be cancelled" });
    expect(cWork.finished).toBe(false);
    // A cancellation, not a failure: nothing for C to log as unexpected or answer INTERNAL.
    expect(reason).toBeInstanceOf(ConnectError);
    expect([Code.Canceled, Code.DeadlineExceeded]).toContain((reason as ConnectError).code);
  });
});
