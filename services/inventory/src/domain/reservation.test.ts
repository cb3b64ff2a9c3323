import { commitTransition, normalizeLines, releaseTransition, sameLines, type ReservationState } from "./reservation.js";

const A = "0190a8d0-0000-7000-8000-00000000000a";
const B = "0190a8d0-0000-7000-8000-00000000000b";
const at = (state: ReservationState) => ({ orderId: "o-1", state });

describe("reservation lines", () => {
  test("lines are sorted by product id and ids lower-cased, so locks are always taken in the same order", () => {
    expect(
      normalizeLines([
        { productId: B.toUpperCase(), quantity: 1 },
        { productId: A, quantity: 2 },
      ]),
    ).toEqual([
      { productId: A, quantity: 2 },
      { productId: B, quantity: 1 },
    ]);
  });

  test("when a product is listed twice (in any letter case), then INVALID_ARGUMENT", () => {
    expect(() =>
      normalizeLines([
        { productId: A, quantity: 1 },
        { productId: A.toUpperCase(), quantity: 1 },
      ]),
    ).toThrow(/listed more than once/);
  });

  test("the same lines in another order are the same request; another quantity is not", () => {
    const first = normalizeLines([
      { productId: A, quantity: 1 },
      { productId: B, quantity: 2 },
    ]);
    const reordered = normalizeLines([
      { productId: B, quantity: 2 },
      { productId: A, quantity: 1 },
    ]);
    expect(sameLines(first, reordered)).toBe(true);
    expect(sameLines(first, normalizeLines([{ productId: A, quantity: 1 }]))).toBe(false);
    expect(
      sameLines(
        first,
        normalizeLines([
          { productId: A, quantity: 1 },
          { productId: B, quantity: 3 },
        ]),
      ),
    ).toBe(false);
  });
});

describe("reservation state machine", () => {
  test("an active reservation can be released or committed", () => {
    expect(releaseTransition(at("ACTIVE"))).toBe("apply");
    expect(commitTransition(at("ACTIVE"))).toBe("apply");
  });

  test("releasing a released or expired reservation, or committing a committed one, changes nothing", () => {
    expect(releaseTransition(at("RELEASED"))).toBe("unchanged");
    expect(releaseTransition(at("EXPIRED"))).toBe("unchanged");
    expect(commitTransition(at("COMMITTED"))).toBe("unchanged");
  });

  test("a committed reservation cannot be released, and a released or expired one cannot be committed", () => {
    expect(() => releaseTransition(at("COMMITTED"))).toThrow(/already committed/);
    expect(() => commitTransition(at("RELEASED"))).toThrow(/is released/);
    expect(() => commitTransition(at("EXPIRED"))).toThrow(/is expired/);
  });
});
