import { outcomeOfFailure, retryDelayMs } from "./delivery-policy.js";

const policy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 10_000 };

test("retry delays double from the base and stop at the cap", () => {
  expect([1, 2, 3, 4, 5, 60].map((attempt) => retryDelayMs(attempt, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
});

describe("outcomeOfFailure", () => {
  test("when attempts remain and the failure is transient, then it is retried after the backoff", () => {
    expect(outcomeOfFailure(2, false, policy)).toEqual({ kind: "retry", delayMs: 2_000 });
  });

  test("when the last allowed attempt failed, then it is dead-lettered", () => {
    expect(outcomeOfFailure(5, false, policy)).toEqual({ kind: "dead-letter" });
  });

  test("when the failure is permanent, then it is dead-lettered at once", () => {
    expect(outcomeOfFailure(1, true, policy)).toEqual({ kind: "dead-letter" });
  });
});
