import { ACCOUNTS, balances, capturePostings, isBalanced, refundPostings } from "./ledger.js";

describe("ledger posting rules", () => {
  test("a capture debits provider clearing and credits revenue by the same amount", () => {
    const postings = capturePostings(4999n);
    expect(postings).toEqual([
      { account: ACCOUNTS.providerClearing, amountMinor: 4999n },
      { account: ACCOUNTS.merchantRevenue, amountMinor: -4999n },
    ]);
    expect(isBalanced(postings)).toBe(true);
  });

  test("a full refund reverses the capture: every account is back to zero", () => {
    const all = [...capturePostings(4999n), ...refundPostings(4999n)];
    expect(isBalanced(refundPostings(4999n))).toBe(true);
    expect([...balances(all).values()]).toEqual([0n, 0n]);
  });

  test("after a partial refund the revenue kept is the captured amount minus the refund", () => {
    const all = [...capturePostings(5000n), ...refundPostings(1200n)];
    expect(balances(all).get(ACCOUNTS.merchantRevenue)).toBe(-3800n);
    expect(balances(all).get(ACCOUNTS.providerClearing)).toBe(3800n);
    expect(isBalanced(all)).toBe(true);
  });

  test("zero or negative amounts are never posted", () => {
    expect(() => capturePostings(0n)).toThrow(RangeError);
    expect(() => refundPostings(-1n)).toThrow(RangeError);
  });
});
