import { priceCart, shortOfStockMessage, type CurrentProduct, type StoredLine } from "./cart.js";

const eur = (amountMinor: bigint) => ({ currency: "EUR", amountMinor });

const buildLine = (overrides: Partial<StoredLine> = {}): StoredLine => ({
  productId: "p1",
  quantity: 1,
  position: 1,
  added: { name: "Mug", imageUrl: "https://img.example/mug.png", price: eur(1_000n) },
  ...overrides,
});

const buildProduct = (overrides: Partial<CurrentProduct> = {}): CurrentProduct => ({
  id: "p1",
  name: "Mug",
  imageUrl: "https://img.example/mug.png",
  active: true,
  price: eur(1_000n),
  ...overrides,
});

describe("priceCart", () => {
  test("when every line is sold and stocked, then line totals and the subtotal are exact integer sums in lines' added order", () => {
    const lines = [
      buildLine({ productId: "p2", quantity: 3, position: 2, added: { name: "Tee", imageUrl: "", price: eur(1_999n) } }),
      buildLine({ productId: "p1", quantity: 2, position: 1 }),
    ];
    const products = new Map([
      ["p1", buildProduct()],
      ["p2", buildProduct({ id: "p2", name: "Tee", price: eur(1_999n) })],
    ]);
    const cart = priceCart(
      { lines, updatedAt: new Date(0) },
      products,
      new Map([
        ["p1", 5],
        ["p2", 3],
      ]),
    );

    expect(cart.lines.map((line) => line.productId)).toEqual(["p1", "p2"]);
    expect(cart.lines.map((line) => line.lineTotal.amountMinor)).toEqual([2_000n, 5_997n]);
    expect(cart.subtotal).toEqual(eur(7_997n));
    expect(cart.itemCount).toBe(5);
    expect(cart.lines.every((line) => line.inStock && !line.priceChanged)).toBe(true);
  });

  test("when amounts exceed 2^53, then the subtotal is still exact", () => {
    const big = 2n ** 60n;
    const cart = priceCart(
      { lines: [buildLine({ quantity: 3 })], updatedAt: undefined },
      new Map([["p1", buildProduct({ price: eur(big) })]]),
      new Map([["p1", 3]]),
    );
    expect(cart.subtotal?.amountMinor).toBe(big * 3n);
  });

  test("when the catalog price differs from the added price, then the line uses the current price and says it changed", () => {
    const cart = priceCart(
      { lines: [buildLine({ quantity: 2 })], updatedAt: undefined },
      new Map([["p1", buildProduct({ price: eur(1_250n) })]]),
      new Map([["p1", 9]]),
    );
    expect(cart.lines[0]).toMatchObject({ unitPrice: eur(1_250n), addedUnitPrice: eur(1_000n), priceChanged: true, lineTotal: eur(2_500n) });
  });

  test("when inventory has fewer units than the line or the product is no longer sold, then the line is not in stock", () => {
    const lines = [buildLine(), buildLine({ productId: "p2", position: 2, quantity: 4 })];
    const products = new Map([
      ["p1", buildProduct({ active: false })],
      ["p2", buildProduct({ id: "p2" })],
    ]);
    const cart = priceCart(
      { lines, updatedAt: undefined },
      products,
      new Map([
        ["p1", 10],
        ["p2", 3],
      ]),
    );
    expect(cart.lines.map((line) => line.inStock)).toEqual([false, false]);
  });

  test("when the product is gone from the catalog, then the line keeps its added name and price and is not in stock", () => {
    const cart = priceCart({ lines: [buildLine()], updatedAt: undefined }, new Map(), new Map([["p1", 10]]));
    expect(cart.lines[0]).toMatchObject({ name: "Mug", unitPrice: eur(1_000n), priceChanged: false, inStock: false });
    expect(cart.subtotal).toEqual(eur(1_000n));
  });

  test("when a product is now priced in another currency, then its line is not in stock and stays out of the subtotal", () => {
    const lines = [buildLine(), buildLine({ productId: "p2", position: 2 })];
    const products = new Map([
      ["p1", buildProduct()],
      ["p2", buildProduct({ id: "p2", price: { currency: "USD", amountMinor: 900n } })],
    ]);
    const cart = priceCart(
      { lines, updatedAt: undefined },
      products,
      new Map([
        ["p1", 1],
        ["p2", 1],
      ]),
    );
    expect(cart.lines[1]).toMatchObject({ inStock: false, priceChanged: true });
    expect(cart.subtotal).toEqual(eur(1_000n));
  });

  test("when the cart is empty, then it has no subtotal and no items", () => {
    const cart = priceCart({ lines: [], updatedAt: undefined }, new Map(), new Map());
    expect(cart).toEqual({ lines: [], subtotal: undefined, itemCount: 0, updatedAt: undefined });
  });
});

describe("shortOfStockMessage", () => {
  test("names what is left and, when relevant, what the cart already holds", () => {
    expect(shortOfStockMessage(3, 0)).toBe("only 3 left");
    expect(shortOfStockMessage(5, 4)).toBe("only 5 left (4 already in your cart)");
  });
});
