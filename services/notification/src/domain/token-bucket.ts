/**
 * A token bucket: `ratePerSecond` tokens are added continuously up to `burst`; a send takes
 * one. Pure (the clock is passed in) so the arithmetic is testable.
 */
export interface TokenBucket {
  /** Takes a token if one is there; true when taken. */
  tryTake(): boolean;
  /** Milliseconds until a token will be there (0 when one is there now). */
  msUntilNext(): number;
  /** Whole tokens available now. */
  available(): number;
}

export function createTokenBucket(options: { ratePerSecond: number; burst: number; now?: () => number }): TokenBucket {
  if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) throw new Error("a token bucket needs a positive rate and a burst of at least 1");
  const now = options.now ?? Date.now;
  let tokens = options.burst;
  let updatedAt = now();

  function refill(): void {
    const at = now();
    tokens = Math.min(options.burst, tokens + ((at - updatedAt) / 1000) * options.ratePerSecond);
    updatedAt = at;
  }

  return {
    tryTake() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    msUntilNext() {
      refill();
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / options.ratePerSecond) * 1000);
    },
    available() {
      refill();
      return Math.floor(tokens);
    },
  };
}
