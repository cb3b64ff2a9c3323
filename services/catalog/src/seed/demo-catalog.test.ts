import { DEMO_CATEGORIES, demoCatalog } from "./demo-catalog.js";

describe("the demo catalog", () => {
  test("is the same on every run, with unique contract-valid SKUs over at least ten categories", () => {
    const first = demoCatalog();
    expect(demoCatalog()).toEqual(first);
    expect(first.length).toBeGreaterThanOrEqual(1_000);
    expect(new Set(first.map((p) => p.sku)).size).toBe(first.length);
    expect(first.every((p) => /^[A-Z0-9]+(-[A-Z0-9]+)*$/.test(p.sku) && p.sku.length <= 64)).toBe(true);
    expect(new Set(first.map((p) => p.categorySlug)).size).toBe(DEMO_CATEGORIES.length);
    expect(DEMO_CATEGORIES.length).toBeGreaterThanOrEqual(10);
  });

  test("has realistic prices and a few sold-out and low-stock products", () => {
    const products = demoCatalog();
    expect(products.every((p) => p.priceMinor > 0n && p.priceMinor < 100_000n)).toBe(true);
    const soldOut = products.filter((p) => p.stock === 0).length;
    const low = products.filter((p) => p.stock > 0 && p.stock <= 5).length;
    expect(soldOut).toBeGreaterThan(5);
    expect(low).toBeGreaterThan(5);
    expect(soldOut + low).toBeLessThan(products.length / 5);
  });
});
