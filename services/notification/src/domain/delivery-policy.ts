/** How a failed send is handled: retried later with exponential backoff, or given up on. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type FailureOutcome = { kind: "retry"; delayMs: number } | { kind: "dead-letter" };

/** base * 2^(attempt-1), capped: 1st failure waits base, 2nd 2x base, 3rd 4x base, ... */
export function retryDelayMs(attempt: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
}

/**
 * After attempt number `attempts` failed: a permanent failure (a template that cannot render,
 * a provider that rejects the recipient) and the last allowed attempt dead-letter; anything
 * else is retried.
 */
export function outcomeOfFailure(attempts: number, permanent: boolean, policy: RetryPolicy): FailureOutcome {
  if (permanent || attempts >= policy.maxAttempts) return { kind: "dead-letter" };
  return { kind: "retry", delayMs: retryDelayMs(attempts, policy) };
}
