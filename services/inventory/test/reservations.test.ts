import { PreconditionFailureSchema } from "@shopmesh/gen/google/rpc/error_details_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { StockReservedSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { InventoryService, ReservationState } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { connectClient, expectCode } from "@shopmesh/platform/testing";
import { countRows, newId, outboxEvents, startInventory, stockedProduct, type RunningInventory } from "./support.js";

let inventory: RunningInventory;

beforeAll(async () => {
  inventory = await startInventory();
});

afterAll(async () => {
  await inventory.stop();
});

const buildReservation = (items: Array<{ productId: string; quantity: number }>, overrides: Partial<{ orderId: string; ttlSeconds: number }> = {}) => ({
  orderId: newId(),
  items,
  ttlSeconds: 600,
  ...overrides,
});

async function stockOf(productId: string) {
  const { stockLevel } = await inventory.anonymous.getStock({ productId });
  return { onHand: stockLevel!.onHand, reserved: stockLevel!.reserved, available: stockLevel!.available };
}

describe("ReserveStock under contention", () => {
  test("when 50 orders reserve one unit each of a product with 10 in stock at once, then exactly 10 succeed, 40 get FAILED_PRECONDITION, and nothing is oversold", async () => {
    const productId = await stockedProduct(inventory, 10);

    const results = await Promise.allSettled(Array.from({ length: 50 }, () => inventory.internal.reserveStock(buildReservation([{ productId, quantity: 1 }]))));

    const succeeded = results.filter((result) => result.status === "fulfilled");
    const failed = results.flatMap((result) => (result.status === "rejected" ? [ConnectError.from(result.reason)] : []));
    expect(succeeded).toHaveLength(10);
    expect(failed).toHaveLength(40);
    for (const error of failed) {
      expect(Code[error.code]).toBe(Code[Code.FailedPrecondition]);
      expect(error.rawMessage).toContain(productId);
    }
    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 10, available: 0 });
    expect(await countRows(inventory.database, "SELECT COUNT(*) AS n FROM reservations WHERE state = 'ACTIVE'")).toBe(10);
  });

  test("when the same order is reserved five times at once, then one reservation holds the stock and every caller gets it", async () => {
    const productId = await stockedProduct(inventory, 10);
    const request = buildReservation([{ productId, quantity: 3 }]);

    const responses = await Promise.all(Array.from({ length: 5 }, () => inventory.internal.reserveStock(request)));

    const createTimes = new Set(responses.map((response) => response.reservation!.createTime!.seconds.toString() + response.reservation!.createTime!.nanos));
    expect(createTimes.size).toBe(1);
    expect(responses.every((response) => response.reservation!.state === ReservationState.ACTIVE)).toBe(true);
    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 3, available: 7 });
    expect(await outboxEvents(inventory.database, StockReservedSchema, request.orderId)).toHaveLength(1);
  });
});

describe("ReserveStock is all-or-nothing", () => {
  test("when the second of two products is short, then FAILED_PRECONDITION names it and the first product is left untouched", async () => {
    const plenty = await stockedProduct(inventory, 5);
    const scarce = await stockedProduct(inventory, 1);
    const request = buildReservation([
      { productId: plenty, quantity: 2 },
      { productId: scarce, quantity: 2 },
    ]);

    const error = await expectCode(inventory.internal.reserveStock(request), Code.FailedPrecondition);

    expect(error.rawMessage).toContain(scarce);
    expect(error.rawMessage).not.toContain(plenty);
    // Over grpc-js too, the products travel as a google.rpc.PreconditionFailure.
    expect(
      error
        .findDetails(PreconditionFailureSchema)
        .flatMap((failure) => failure.violations.map(({ type, subject, description }) => ({ type, subject, description }))),
    ).toEqual([{ type: "STOCK", subject: scarce, description: "requested 2, available 1" }]);
    expect(await stockOf(plenty)).toEqual({ onHand: 5, reserved: 0, available: 5 });
    expect(await stockOf(scarce)).toEqual({ onHand: 1, reserved: 0, available: 1 });
    await expectCode(inventory.internal.commitReservation({ orderId: request.orderId }), Code.NotFound);
  });

  test("when a product was never stocked, then reserving it fails with FAILED_PRECONDITION", async () => {
    const unknown = newId();
    const error = await expectCode(inventory.internal.reserveStock(buildReservation([{ productId: unknown, quantity: 1 }])), Code.FailedPrecondition);
    expect(error.rawMessage).toContain(unknown);
  });

  test("when a product is listed twice, then INVALID_ARGUMENT and nothing is held", async () => {
    const productId = await stockedProduct(inventory, 5);
    await expectCode(
      inventory.internal.reserveStock(
        buildReservation([
          { productId, quantity: 1 },
          { productId, quantity: 1 },
        ]),
      ),
      Code.InvalidArgument,
    );
    expect((await stockOf(productId)).reserved).toBe(0);
  });
});

describe("reservations are idempotent by order id", () => {
  test("reserving again for the same order returns the existing reservation without holding more stock", async () => {
    const productId = await stockedProduct(inventory, 10);
    const request = buildReservation([{ productId, quantity: 4 }]);

    const first = await inventory.internal.reserveStock(request);
    const second = await inventory.internal.reserveStock(request);

    expect(second.reservation).toEqual(first.reservation);
    expect(second.reservation!.items).toEqual([expect.objectContaining({ productId, quantity: 4 })]);
    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 4, available: 6 });
  });

  test("when the same order asks for different items, then ALREADY_EXISTS and the first reservation stands", async () => {
    const productId = await stockedProduct(inventory, 10);
    const request = buildReservation([{ productId, quantity: 1 }]);
    await inventory.internal.reserveStock(request);

    await expectCode(inventory.internal.reserveStock({ ...request, items: [{ productId, quantity: 2 }] }), Code.AlreadyExists);
    expect((await stockOf(productId)).reserved).toBe(1);
  });

  test("releasing twice returns the stock once; the second call returns the released reservation unchanged", async () => {
    const productId = await stockedProduct(inventory, 10);
    const request = buildReservation([{ productId, quantity: 4 }]);
    await inventory.internal.reserveStock(request);

    const first = await inventory.internal.releaseReservation({ orderId: request.orderId, reason: "order_cancelled" });
    const second = await inventory.internal.releaseReservation({ orderId: request.orderId, reason: "order_cancelled" });

    expect(first.reservation!.state).toBe(ReservationState.RELEASED);
    expect(second.reservation).toEqual(first.reservation);
    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 0, available: 10 });
  });

  test("committing twice takes the stock out of on_hand once; the second call returns the committed reservation", async () => {
    const productId = await stockedProduct(inventory, 10);
    const request = buildReservation([{ productId, quantity: 4 }]);
    await inventory.internal.reserveStock(request);

    const first = await inventory.internal.commitReservation({ orderId: request.orderId });
    const second = await inventory.internal.commitReservation({ orderId: request.orderId });

    expect(first.reservation!.state).toBe(ReservationState.COMMITTED);
    expect(second.reservation).toEqual(first.reservation);
    expect(await stockOf(productId)).toEqual({ onHand: 6, reserved: 0, available: 6 });
  });

  test("a released reservation cannot be committed, and a committed one cannot be released", async () => {
    const productId = await stockedProduct(inventory, 10);
    const released = buildReservation([{ productId, quantity: 1 }]);
    const committed = buildReservation([{ productId, quantity: 2 }]);
    await inventory.internal.reserveStock(released);
    await inventory.internal.reserveStock(committed);
    await inventory.internal.releaseReservation({ orderId: released.orderId, reason: "payment_failed" });
    await inventory.internal.commitReservation({ orderId: committed.orderId });

    await expectCode(inventory.internal.commitReservation({ orderId: released.orderId }), Code.FailedPrecondition);
    await expectCode(inventory.internal.releaseReservation({ orderId: committed.orderId, reason: "order_cancelled" }), Code.FailedPrecondition);
    expect(await stockOf(productId)).toEqual({ onHand: 8, reserved: 0, available: 8 });
  });

  test("when no reservation exists for the order, then release and commit get NOT_FOUND", async () => {
    await expectCode(inventory.internal.releaseReservation({ orderId: newId(), reason: "order_cancelled" }), Code.NotFound);
    await expectCode(inventory.internal.commitReservation({ orderId: newId() }), Code.NotFound);
  });
});

describe("reservation RPCs are internal", () => {
  test("when ReserveStock arrives over Connect (through the edge), then PERMISSION_DENIED even for an admin, and nothing is held", async () => {
    const productId = await stockedProduct(inventory, 5);
    const viaEdge = connectClient(InventoryService, inventory.port, { token: inventory.adminToken });

    await expectCode(viaEdge.reserveStock(buildReservation([{ productId, quantity: 1 }])), Code.PermissionDenied);
    expect((await stockOf(productId)).reserved).toBe(0);
  });
});
