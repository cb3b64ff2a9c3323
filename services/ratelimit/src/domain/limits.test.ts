import { RateLimitResponse_RateLimit_Unit as Unit } from "@shopmesh/gen/envoy/service/ratelimit/v3/rls_pb.js";
import { bucketKey, limitFor, msUntilReset, parseLimits, takeTokens } from "./limits.js";

const buildLimitsFile = (classes: Record<string, unknown> = {}) => ({ classes: { default: { requests: 100, unit: "second" }, ...classes } });

describe("limits file", () => {
  test("when a class sets a unit multiplier, then its bucket refills over that many units", () => {
    const limits = parseLimits(buildLimitsFile({ login: { requests: 3, unit: "second", unitMultiplier: 2 } }));
    expect(limits.get("login")).toMatchObject({ capacity: 3, periodMs: 2000, requestsPerUnit: 3, unit: Unit.SECOND, description: "login: 3 per 2 second" });
    expect(limits.get("default")).toMatchObject({ capacity: 100, periodMs: 1000 });
  });

  test("when the default class is missing or a limit is malformed, then parsing fails naming the problem", () => {
    expect(() => parseLimits({ classes: { login: { requests: 5, unit: "minute" } } })).toThrow(/default/);
    expect(() => parseLimits(buildLimitsFile({ login: { requests: 0, unit: "minute" } }))).toThrow(/classes\.login\.requests/);
    expect(() => parseLimits(buildLimitsFile({ login: { requests: 5, unit: "fortnight" } }))).toThrow(/classes\.login\.unit/);
    expect(() => parseLimits(buildLimitsFile({ login: { requests: 5, unit: "minute", burst: 9 } }))).toThrow(/burst/);
  });

  test("when a descriptor names an unknown class or none, then the default limit applies", () => {
    const limits = parseLimits(buildLimitsFile({ login: { requests: 5, unit: "minute" } }));
    expect(limitFor(limits, [{ key: "class", value: "login" }]).className).toBe("login");
    expect(limitFor(limits, [{ key: "class", value: "nope" }]).className).toBe("default");
    expect(limitFor(limits, [{ key: "remote_address", value: "10.0.0.1" }]).className).toBe("default");
  });
});

describe("bucket keys", () => {
  test("when two descriptors differ in domain, key or value, then their keys differ, and the values are not readable in them", () => {
    const entries = [
      { key: "class", value: "login" },
      { key: "user", value: "user-1" },
    ];
    const key = bucketKey("shopmesh", entries);
    expect(bucketKey("shopmesh", entries)).toBe(key);
    expect(bucketKey("other", entries)).not.toBe(key);
    expect(bucketKey("shopmesh", [entries[0]!, { key: "user", value: "user-2" }])).not.toBe(key);
    expect(bucketKey("shopmesh", [entries[0]!, { key: "remote_address", value: "user-1" }])).not.toBe(key);
    expect(key).not.toContain("user-1");
    expect(key).toMatch(/^shopmesh:ratelimit:\{[0-9a-f]{40}\}$/);
  });
});

describe("token bucket", () => {
  const limit = { capacity: 3, periodMs: 3000 }; // one token per second

  test("when a full bucket takes a burst, then exactly its capacity passes", () => {
    let state: Parameters<typeof takeTokens>[0];
    const allowed: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const step = takeTokens(state, 1_000, limit, 1);
      state = step.state;
      allowed.push(step.result.allowed);
    }
    expect(allowed).toEqual([true, true, true, false, false]);
  });

  test("when time passes, then tokens come back at capacity per period, never above capacity", () => {
    let { state } = takeTokens(undefined, 0, limit, 3);
    expect(state.tokens).toBe(0);
    const early = takeTokens(state, 500, limit, 1);
    expect(early.result).toMatchObject({ allowed: false, remaining: 0, msUntilAvailable: 500 });
    ({ state } = early);
    const later = takeTokens(state, 1_000, limit, 1);
    expect(later.result).toMatchObject({ allowed: true, remaining: 0 });
    expect(takeTokens(later.state, 1_000_000, limit, 1).result.remaining).toBe(2);
  });

  test("when a request is refused, then the reset is when it could pass; when allowed, when the bucket is full again", () => {
    const first = takeTokens(undefined, 0, limit, 1);
    expect(msUntilReset(first.result)).toBe(1000);
    const drained = takeTokens(first.state, 0, limit, 2);
    const refused = takeTokens(drained.state, 0, limit, 1);
    expect(refused.result.allowed).toBe(false);
    expect(msUntilReset(refused.result)).toBe(1000);
    expect(takeTokens(undefined, 0, limit, 4).result).toMatchObject({ allowed: false });
  });
});
