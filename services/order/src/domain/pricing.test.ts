import { priceOrder } from "./pricing.js";

const buildItem = (overrides: Partial<{ productId: string; name: string; quantity: number; unitPriceMinor: bigint; currency: string }> = {}) => ({
  productId: "p1",
  name: "Mug",
  quantity: 1,
  unitPriceMinor: 1299n,
  currency: "EUR",
  ...overrides,
});
const shipping = { feeMinor: 499n, freeFromMinor: 5000n };

describe("priceOrder", () => {
  test("line totals, subtotal, shipping and total are exact integers", () => {
    const totals = priceOrder([buildItem({ quantity: 3 }), buildItem({ productId: "p2", unitPriceMinor: 1n, quantity: 7 })], shipping);
    expect(totals.lines.map((line) => line.lineTotalMinor)).toEqual([3897n, 7n]);
    expect(totals.subtotalMinor).toBe(3904n);
    expect(totals.shippingFeeMinor).toBe(499n);
    expect(totals.totalMinor).toBe(4403n);
  });

  test("shipping is free from the threshold on", () => {
    expect(priceOrder([buildItem({ unitPriceMinor: 5000n })], shipping).shippingFeeMinor).toBe(0n);
    expect(priceOrder([buildItem({ unitPriceMinor: 4999n })], shipping).shippingFeeMinor).toBe(499n);
  });

  test("an empty cart or mixed currencies cannot be priced", () => {
    expect(() => priceOrder([], shipping)).toThrow(/empty/);
    expect(() => priceOrder([buildItem(), buildItem({ productId: "p2", currency: "USD" })], shipping)).toThrow(/mixes currencies/);
  });
});
