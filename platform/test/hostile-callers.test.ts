// What a hostile caller can make a server spend. An error answer must fit in the HTTP/2
// headers that carry it: a request with thousands of invalid fields gets a prompt
// INVALID_ARGUMENT over grpc-js and Connect alike, with a bounded message and the first
// violations as structured details. A connection that never speaks is closed.
import { randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import { Code } from "@connectrpc/connect";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { connectClient, expectCode, grpcClient, startStubServer, type StubServer } from "@shopmesh/platform/testing";

let stub: StubServer;
let handled = 0;

beforeAll(async () => {
  stub = await startStubServer(
    InventoryService,
    {
      batchGetStock: () => {
        handled++;
        return { stockLevels: [] };
      },
    },
    { firstByteTimeoutMs: 500 },
  );
});

afterAll(() => stub.stop());

const thousandsInvalid = { productIds: Array.from({ length: 5_000 }, (_, index) => `not-a-uuid-${index}`) };

test("over grpc-js, 5,000 invalid ids are answered INVALID_ARGUMENT at once, with a short message and 50 violations in grpc-status-details-bin", async () => {
  const client = grpcClient(InventoryService, stub.port);
  try {
    const started = Date.now();
    const error = await expectCode(client.batchGetStock(thousandsInvalid, { timeoutMs: 10_000 }), Code.InvalidArgument);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.rawMessage.length).toBeLessThan(1_024);
    expect(error.rawMessage).toMatch(/and \d+ more \(the first 50 in the error details\)$/);
    const [violations] = error.findDetails(ViolationsSchema);
    expect(violations?.violations).toHaveLength(50);
  } finally {
    client.close();
  }
  expect(handled).toBe(0);
});

test("over Connect the same request gets the same bounded answer, and a valid one still reaches the handler", async () => {
  const client = connectClient(InventoryService, stub.port);
  const error = await expectCode(client.batchGetStock(thousandsInvalid), Code.InvalidArgument);
  expect(error.rawMessage.length).toBeLessThan(1_024);
  expect(error.findDetails(ViolationsSchema)[0]?.violations).toHaveLength(50);
  await client.batchGetStock({ productIds: [randomUUID()] });
  expect(handled).toBe(1);
});

test("a connection that sends nothing is closed after the first-byte timeout; one that speaks is served", async () => {
  const socket: Socket = connect(stub.port, "127.0.0.1");
  const opened = Date.now();
  const closedAfterMs = await new Promise<number>((resolve, reject) => {
    socket.once("close", () => resolve(Date.now() - opened));
    socket.once("error", reject);
    setTimeout(() => reject(new Error("the silent connection was still open after 5 s")), 5_000).unref();
  });
  expect(closedAfterMs).toBeGreaterThanOrEqual(400);
  // The port still serves whoever speaks.
  const health = await fetch(`http://127.0.0.1:${stub.port}/healthz`);
  expect(health.status).toBe(200);
});
