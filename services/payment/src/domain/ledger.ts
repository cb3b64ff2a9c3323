/**
 * Double-entry posting rules. Amounts are signed: positive is a debit, negative a credit,
 * so every group of entries (one money movement) sums to zero, and so does every payment.
 *
 * - provider_clearing (asset): money the provider holds for us and will pay out.
 * - merchant_revenue (revenue): what the shop earned from the sale.
 */
export const ACCOUNTS = {
  providerClearing: "provider_clearing",
  merchantRevenue: "merchant_revenue",
} as const;

export type Account = (typeof ACCOUNTS)[keyof typeof ACCOUNTS];

export interface Posting {
  account: Account;
  amountMinor: bigint;
}

function positive(amountMinor: bigint): bigint {
  if (amountMinor <= 0n) throw new RangeError(`a posted amount must be positive, got ${amountMinor}`);
  return amountMinor;
}

/** The provider captured the customer's money for us: it owes it to us, and we earned it. */
export function capturePostings(amountMinor: bigint): Posting[] {
  const amount = positive(amountMinor);
  return [
    { account: ACCOUNTS.providerClearing, amountMinor: amount },
    { account: ACCOUNTS.merchantRevenue, amountMinor: -amount },
  ];
}

/** A refund reverses (part of) the capture: the revenue is given back out of the clearing balance. */
export function refundPostings(amountMinor: bigint): Posting[] {
  const amount = positive(amountMinor);
  return [
    { account: ACCOUNTS.merchantRevenue, amountMinor: amount },
    { account: ACCOUNTS.providerClearing, amountMinor: -amount },
  ];
}

export function isBalanced(postings: readonly Posting[]): boolean {
  return postings.reduce((sum, posting) => sum + posting.amountMinor, 0n) === 0n;
}

/** Balance per account over any set of postings. */
export function balances(postings: readonly Posting[]): Map<Account, bigint> {
  const result = new Map<Account, bigint>();
  for (const posting of postings) result.set(posting.account, (result.get(posting.account) ?? 0n) + posting.amountMinor);
  return result;
}
