/** What confirming with a card does, by the provider's documented test card numbers. */
export interface CardOutcome {
  result: "succeeded" | "failed";
  /** Settles after the slow-card delay instead of at once. */
  delayed: boolean;
  failureReason?: string;
}

const TEST_CARDS: Record<string, CardOutcome> = {
  "4242424242424242": { result: "succeeded", delayed: false },
  "4000000000000002": { result: "failed", delayed: false, failureReason: "card_declined" },
  "4000000000000259": { result: "succeeded", delayed: true },
  "4000000000009995": { result: "failed", delayed: true, failureReason: "insufficient_funds" },
};

/** Outcome of a card number; any other well-formed number is declined like a real unknown card. */
export function cardOutcome(cardNumber: string): CardOutcome {
  const digits = cardNumber.replace(/[\s-]/g, "");
  return TEST_CARDS[digits] ?? { result: "failed", delayed: false, failureReason: "card_declined" };
}

/** The only part of a card number that may be logged or stored. */
export function last4(cardNumber: string): string {
  return cardNumber.replace(/[\s-]/g, "").slice(-4);
}
