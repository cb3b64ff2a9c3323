// The inventory handlers in memory, behind the real pipeline, with the use cases faked: who
// may call what (internal RPCs only over the mesh's gRPC, stock-taking only for admins), what
// a never-stocked product reads as, and out-of-stock answered with the products as details.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { PreconditionFailureSchema } from "@shopmesh/gen/google/rpc/error_details_pb.js";
import { InventoryService, ReservationState } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createTestTokens, inMemoryClient } from "@shopmesh/platform/testing";
import { insufficientStock, type StockRecord } from "../domain/stock.js";
import type { Inventory } from "../inventory.js";
import { createInventoryService } from "./inventory-service.js";

const stocked = randomUUID();
const level: StockRecord = { productId: stocked, onHand: 5, reserved: 2, lowStockThreshold: 1, updatedAt: new Date(Date.UTC(2026, 11, 1)) };
const calls: string[] = [];
const inventory = {
  getStock: async (productId: string) => (productId === stocked ? level : undefined),
  setStock: async (productId: string, onHand: number) => {
    calls.push(`setStock ${productId} ${onHand}`);
    return { ...level, productId, onHand };
  },
  reserve: async (orderId: string, lines: ReadonlyArray<{ productId: string; quantity: number }>) => {
    calls.push(`reserve ${orderId}`);
    const short = lines.filter((line) => line.productId !== stocked || line.quantity > 3);
    if (short.length > 0) throw insufficientStock(short.map((line) => ({ productId: line.productId, requested: line.quantity, available: 0 })));
    const now = new Date();
    return { orderId, state: "ACTIVE" as const, lines: [...lines], expiresAt: now, createdAt: now, updatedAt: now, releaseReason: null };
  },
} as unknown as Inventory;
const impl = createInventoryService({ inventory });
let tokens: Awaited<ReturnType<typeof createTestTokens>>;

beforeAll(async () => {
  tokens = await createTestTokens();
});

const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );
const reserveRequest = (productId: string, quantity: number) => ({ orderId: randomUUID(), items: [{ productId, quantity }], ttlSeconds: 600 });

test("a product never stocked reads as zeros without an update time, to anyone", async () => {
  const client = inMemoryClient(InventoryService, impl, { verifier: tokens.verifier });
  const { stockLevel } = await client.getStock({ productId: randomUUID() });
  expect(stockLevel).toMatchObject({ onHand: 0, reserved: 0, available: 0 });
  expect(stockLevel?.updateTime).toBeUndefined();
  expect((await client.getStock({ productId: stocked })).stockLevel).toMatchObject({ onHand: 5, reserved: 2, available: 3 });
});

test("ReserveStock is internal: from the edge's transport it is PERMISSION_DENIED, even for an admin, and reaches no use case", async () => {
  const admin = await tokens.token(randomUUID(), ["customer", "admin"]);
  const fromEdge = inMemoryClient(InventoryService, impl, { verifier: tokens.verifier, token: admin });
  expect((await failure(fromEdge.reserveStock(reserveRequest(stocked, 1))))?.code).toBe(Code.PermissionDenied);
  expect(calls.filter((call) => call.startsWith("reserve"))).toEqual([]);
});

test("over the mesh's gRPC, a reservation that does not fit is FAILED_PRECONDITION naming each short product in a PreconditionFailure", async () => {
  const mesh = inMemoryClient(InventoryService, impl, { verifier: tokens.verifier, transport: "grpc" });
  const { reservation } = await mesh.reserveStock(reserveRequest(stocked, 2));
  expect(reservation?.state).toBe(ReservationState.ACTIVE);
  const unknown = randomUUID();
  const err = await failure(mesh.reserveStock(reserveRequest(unknown, 1)));
  expect(err?.code).toBe(Code.FailedPrecondition);
  expect(err?.findDetails(PreconditionFailureSchema).flatMap((detail) => detail.violations.map((violation) => [violation.type, violation.subject]))).toEqual([
    ["STOCK", unknown],
  ]);
});

test("SetStock is for admins: a customer gets PERMISSION_DENIED, no token UNAUTHENTICATED, and only the admin's call changes stock", async () => {
  const customer = inMemoryClient(InventoryService, impl, { verifier: tokens.verifier, token: await tokens.token(randomUUID()) });
  const anonymous = inMemoryClient(InventoryService, impl, { verifier: tokens.verifier });
  const admin = inMemoryClient(InventoryService, impl, { verifier: tokens.verifier, token: await tokens.token(randomUUID(), ["customer", "admin"]) });
  expect((await failure(customer.setStock({ productId: stocked, onHand: 9 })))?.code).toBe(Code.PermissionDenied);
  // Auth comes before validation: a caller without a token learns nothing about the fields (-1 is invalid).
  expect((await failure(anonymous.setStock({ productId: stocked, onHand: -1 })))?.code).toBe(Code.Unauthenticated);
  expect(calls.filter((call) => call.startsWith("setStock"))).toEqual([]);
  expect((await admin.setStock({ productId: stocked, onHand: 9 })).stockLevel?.onHand).toBe(9);
  expect(calls.filter((call) => call.startsWith("setStock"))).toEqual([`setStock ${stocked} 9`]);
});
