import {
  adjustOnHand,
  available,
  commitUnits,
  crossedIntoLow,
  findShortages,
  isLow,
  releaseUnits,
  reserveUnits,
  setOnHand,
  stockChanged,
  type StockRecord,
} from "./stock.js";

const now = new Date("2030-01-01T00:00:00Z");
const buildStock = (overrides: Partial<StockRecord> = {}): StockRecord => ({
  productId: "p-1",
  onHand: 10,
  reserved: 0,
  lowStockThreshold: 0,
  updatedAt: now,
  ...overrides,
});

describe("availability", () => {
  test("available is on_hand minus reserved", () => {
    expect(available(buildStock({ onHand: 10, reserved: 4 }))).toBe(6);
  });

  test("reserving holds units; committing takes them from on_hand and reserved alike, leaving available unchanged", () => {
    const reserved = reserveUnits(buildStock({ onHand: 10 }), 3, now);
    expect(reserved).toMatchObject({ onHand: 10, reserved: 3 });
    const committed = commitUnits(reserved, 3, now);
    expect(committed).toMatchObject({ onHand: 7, reserved: 0 });
    expect(available(committed)).toBe(available(reserved));
  });

  test("releasing returns held units to available", () => {
    expect(available(releaseUnits(buildStock({ onHand: 5, reserved: 5 }), 2, now))).toBe(2);
  });

  test("when more is reserved than is available, then FAILED_PRECONDITION and nothing is held", () => {
    const level = buildStock({ onHand: 2, reserved: 1 });
    expect(() => reserveUnits(level, 2, now)).toThrow(/insufficient stock: p-1 \(requested 2, available 1\)/);
    expect(level.reserved).toBe(1);
  });

  test("shortages list every line that does not fit, counting a product never stocked as zero available", () => {
    const levels = new Map([
      ["a", buildStock({ productId: "a", onHand: 5 })],
      ["b", buildStock({ productId: "b", onHand: 5, reserved: 4 })],
    ]);
    const lines = [
      { productId: "a", quantity: 5 },
      { productId: "b", quantity: 2 },
      { productId: "c", quantity: 1 },
    ];
    expect(findShortages(levels, lines)).toEqual([
      { productId: "b", requested: 2, available: 1 },
      { productId: "c", requested: 1, available: 0 },
    ]);
  });
});

describe("admin changes", () => {
  test("when a stock take sets on_hand below what is reserved, then FAILED_PRECONDITION", () => {
    expect(() => setOnHand(buildStock({ onHand: 10, reserved: 6 }), 5, undefined, now)).toThrow(/below the 6 units reserved/);
  });

  test("setting on_hand keeps the threshold unless a new one is given", () => {
    expect(setOnHand(buildStock({ lowStockThreshold: 3 }), 7, undefined, now).lowStockThreshold).toBe(3);
    expect(setOnHand(buildStock({ lowStockThreshold: 3 }), 7, 0, now).lowStockThreshold).toBe(0);
  });

  test("an adjustment may not take on_hand below zero or below reserved", () => {
    expect(() => adjustOnHand(buildStock({ onHand: 2 }), -3, now)).toThrow(/drop to -1/);
    expect(() => adjustOnHand(buildStock({ onHand: 5, reserved: 4 }), -2, now)).toThrow(/below the 4 units reserved/);
    expect(adjustOnHand(buildStock({ onHand: 5, reserved: 4 }), -1, now).onHand).toBe(4);
  });

  test("a repeated stock take with the same values is not a change", () => {
    const level = buildStock({ onHand: 4, lowStockThreshold: 2 });
    expect(stockChanged(level, setOnHand(level, 4, 2, now))).toBe(false);
    expect(stockChanged(level, setOnHand(level, 5, 2, now))).toBe(true);
  });
});

describe("low-stock crossing", () => {
  test("a threshold of 0 never counts as low, even with nothing available", () => {
    expect(isLow(buildStock({ onHand: 0, lowStockThreshold: 0 }))).toBe(false);
  });

  test("when available drops from above the threshold to exactly the threshold, then it crossed", () => {
    expect(crossedIntoLow(buildStock({ onHand: 6, lowStockThreshold: 5 }), buildStock({ onHand: 6, reserved: 1, lowStockThreshold: 5 }))).toBe(true);
  });

  test("when available drops further while already low, then it did not cross again", () => {
    expect(crossedIntoLow(buildStock({ onHand: 5, lowStockThreshold: 5 }), buildStock({ onHand: 5, reserved: 1, lowStockThreshold: 5 }))).toBe(false);
  });

  test("when available recovers above the threshold and drops again, then it crosses again", () => {
    const low = buildStock({ onHand: 3, lowStockThreshold: 5 });
    const recovered = { ...low, onHand: 20 };
    expect(crossedIntoLow(low, recovered)).toBe(false);
    expect(crossedIntoLow(recovered, { ...recovered, reserved: 15 })).toBe(true);
  });

  test("raising the threshold above what is available counts as a crossing", () => {
    expect(crossedIntoLow(buildStock({ onHand: 3, lowStockThreshold: 0 }), buildStock({ onHand: 3, lowStockThreshold: 5 }))).toBe(true);
  });
});
