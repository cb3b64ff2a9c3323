// Service identity on the gRPC side (issue 14, first slice): a server with mesh TLS takes
// HTTP/2 callers only with a certificate of the mesh CA, reads who they are from it, and lets
// an internal RPC run only for the callers its contract names (ReserveStock: order). Every
// refusal leaves the handler untouched. Real grpc-js on both sides, real certificates
// (openssl), a real rotation picked up without a restart.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { readFileSync } from "node:fs";
import { Code } from "@connectrpc/connect";
import { InventoryService, ReservationState } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createGrpcClient, type MeshTlsFiles } from "@shopmesh/platform";
import { connectClient, createMeshCa, expectCode, grpcClient, startStubServer, testLogger, type MeshCa, type StubServer } from "@shopmesh/platform/testing";

let dir: string;
let ca: MeshCa;
let server: StubServer;
let inventoryFiles: MeshTlsFiles;
const reserved: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shopmesh-mesh-tls-"));
  ca = createMeshCa(join(dir, "mesh"));
  inventoryFiles = { ...ca.issue("inventory"), refreshIntervalMs: 200 };
  server = await startStubServer(
    InventoryService,
    {
      reserveStock: (request) => {
        reserved.push(request.orderId);
        return { reservation: { orderId: request.orderId, state: ReservationState.ACTIVE } };
      },
      batchGetStock: (request) => ({ stockLevels: request.productIds.map((productId) => ({ productId })) }),
    },
    { meshTls: inventoryFiles },
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A stub that presents `files` and expects the server to be `expect`; one channel per call site. */
function stubAs(files: MeshTlsFiles, expect = "inventory") {
  return createGrpcClient(InventoryService, {
    address: `127.0.0.1:${server.port}`,
    logger: testLogger("mesh-tls-test"),
    defaultTimeoutMs: 3_000,
    maxRetries: 0,
    meshTls: { ...files, server: expect },
  });
}

const reservation = () => ({ orderId: randomUUID(), items: [{ productId: randomUUID(), quantity: 1 }], ttlSeconds: 600 });

/** Runs `call` on a fresh stub and closes it. */
async function withStub<T>(stub: ReturnType<typeof stubAs>, call: (s: ReturnType<typeof stubAs>) => Promise<T>): Promise<T> {
  try {
    return await call(stub);
  } finally {
    stub.close();
  }
}

test("order, named in ReserveStock's callers, reserves; cart, a valid mesh identity not named, is PERMISSION_DENIED but may read stock", async () => {
  const request = reservation();
  const { reservation: made } = await withStub(stubAs(ca.issue("order")), (stub) => stub.reserveStock(request));
  expect(made?.orderId).toBe(request.orderId);
  const cart = ca.issue("cart");
  const refused = await withStub(stubAs(cart), (stub) => expectCode(stub.reserveStock(reservation()), Code.PermissionDenied));
  expect(refused.rawMessage).toBe("cart may not call this method");
  const { stockLevels } = await withStub(stubAs(cart), (stub) => stub.batchGetStock({ productIds: [randomUUID()] }));
  expect(stockLevels).toHaveLength(1);
  expect(reserved).toEqual([request.orderId]);
});

test("without a certificate, with one of another CA, or with an expired one, no call gets through", async () => {
  const before = reserved.length;
  // Plain HTTP/2, as any process on the network could try.
  const plain = grpcClient(InventoryService, server.port);
  try {
    await expectCode(plain.reserveStock(reservation(), { timeoutMs: 3_000 }), Code.Unavailable);
  } finally {
    plain.close();
  }
  const stranger = createMeshCa(join(dir, "stranger")).issue("order");
  await withStub(stubAs({ ...stranger, caFile: ca.caFile }), (stub) => expectCode(stub.reserveStock(reservation()), Code.Unavailable));
  const expired = ca.issue("order", { file: "order-expired", notBefore: new Date(Date.now() - 7_200_000), lifetimeSeconds: 3_600 });
  await withStub(stubAs(expired), (stub) => expectCode(stub.reserveStock(reservation()), Code.Unavailable));
  expect(reserved).toHaveLength(before);
});

test("a stub refuses a server whose certificate names another service, so a caller cannot be tricked into sending it requests", async () => {
  const order = ca.issue("order");
  const error = await withStub(stubAs(order, "payment"), (stub) => expectCode(stub.batchGetStock({ productIds: [randomUUID()] }), Code.Unavailable));
  expect(error.rawMessage).toContain("expected the mesh identity payment, the server presented inventory");
});

test("over HTTP/1.1 (the edge's way in) internal RPCs stay PERMISSION_DENIED, public ones answer", async () => {
  const client = connectClient(InventoryService, server.port);
  await expectCode(client.reserveStock(reservation()), Code.PermissionDenied);
  expect((await client.batchGetStock({ productIds: [randomUUID()] })).stockLevels).toHaveLength(1);
});

test("a rotated server certificate is served on new connections without a restart", async () => {
  const serial = () =>
    new Promise<string>((resolve, reject) => {
      const order = ca.issue("order", { file: "order-probe" });
      const socket = tlsConnect({
        host: "127.0.0.1",
        port: server.port,
        ca: readFileSync(ca.caFile),
        cert: readFileSync(order.certFile),
        key: readFileSync(order.keyFile),
        ALPNProtocols: ["h2"],
        checkServerIdentity: () => undefined,
      });
      socket.once("secureConnect", () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.once("error", reject);
    });
  const before = await serial();
  ca.issue("inventory", { lifetimeSeconds: 600 });
  const deadline = Date.now() + 10_000;
  let after = before;
  while (after === before && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    after = await serial();
  }
  expect(after).not.toBe(before);
  // And calls go on over the new certificate.
  await withStub(stubAs(ca.issue("order")), (stub) => stub.reserveStock(reservation()));
});
