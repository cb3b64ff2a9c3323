import { createTokenBucket } from "./token-bucket.js";

function clock(start = 0) {
  let time = start;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

describe("token bucket", () => {
  test("when full, then a burst of `burst` sends passes and the next one waits", () => {
    const time = clock();
    const bucket = createTokenBucket({ ratePerSecond: 20, burst: 3, now: time.now });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    expect(bucket.msUntilNext()).toBe(50);
  });

  test("when time passes, then tokens come back at the rate and never above the burst", () => {
    const time = clock();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 2, now: time.now });
    bucket.tryTake();
    bucket.tryTake();
    time.advance(100);
    expect(bucket.available()).toBe(1);
    time.advance(10_000);
    expect(bucket.available()).toBe(2);
  });

  test("over a long run the send rate equals the configured rate", () => {
    const time = clock();
    const bucket = createTokenBucket({ ratePerSecond: 5, burst: 1, now: time.now });
    let sent = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      if (bucket.tryTake()) sent++;
      time.advance(10);
    }
    expect(sent).toBe(50);
  });

  test("a zero rate is refused", () => {
    expect(() => createTokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow();
  });
});
