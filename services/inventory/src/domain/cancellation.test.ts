import { cancellationTransition, commitTransition, releaseTransition, type ReservationState } from "./reservation.js";
import { available, returnUnits, type StockRecord } from "./stock.js";

const at = (state: ReservationState) => ({ orderId: "o-1", state });
const buildLevel = (overrides: Partial<StockRecord> = {}): StockRecord => ({
  productId: "p-1",
  onHand: 7,
  reserved: 2,
  lowStockThreshold: 0,
  updatedAt: new Date(0),
  ...overrides,
});

describe("cancelling an order's reservation", () => {
  test("held stock is released, committed stock is returned, and anything already settled is left alone", () => {
    expect(cancellationTransition(at("ACTIVE"))).toBe("release");
    expect(cancellationTransition(at("COMMITTED"))).toBe("return");
    for (const state of ["RELEASED", "EXPIRED", "RETURNED"] as const) expect(cancellationTransition(at(state))).toBe("unchanged");
  });

  test("a returned reservation cannot be committed again, and releasing it changes nothing", () => {
    expect(() => commitTransition(at("RETURNED"))).toThrow(/returned/);
    expect(releaseTransition(at("RETURNED"))).toBe("unchanged");
  });

  test("returned units go back on hand and become available; units held for others stay held", () => {
    const after = returnUnits(buildLevel(), 3, new Date(1));
    expect([after.onHand, after.reserved, available(after)]).toEqual([10, 2, 8]);
  });
});
