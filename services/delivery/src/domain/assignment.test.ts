import { chooseAssignment, longestMatchingPrefix, type PartnerLoad } from "./assignment.js";

let nextId = 0;
function buildLoad(overrides: Partial<PartnerLoad["partner"]> = {}, assignedToday = 0): PartnerLoad {
  nextId++;
  return {
    partner: {
      id: `00000000-0000-7000-8000-${String(nextId).padStart(12, "0")}`,
      name: `Partner ${String(nextId).padStart(3, "0")}`,
      available: true,
      serviceAreaPrefixes: ["10"],
      dailyCapacity: 10,
      maxOrderItems: 0,
      ...overrides,
    },
    assignedToday,
  };
}

const order = (postalCode = "10115", itemCount = 3) => ({ postalCode, itemCount });

describe("longestMatchingPrefix", () => {
  test("when several prefixes match, then the longest one counts", () => {
    expect(longestMatchingPrefix("10115", ["1", "101", "10"])).toBe(3);
  });

  test("when no prefix starts the code, then 0", () => {
    expect(longestMatchingPrefix("20095", ["10", "201"])).toBe(0);
  });

  test("when code and prefix differ in case, spaces or dashes, then they still match", () => {
    expect(longestMatchingPrefix("sw1a 1aa", ["SW1A1"])).toBe(5);
    expect(longestMatchingPrefix("00-950", ["00 9"])).toBe(3);
  });
});

describe("chooseAssignment: who may take the delivery", () => {
  test("when the only partner serves another area, then unassigned with a reason naming the postal code", () => {
    const decision = chooseAssignment(order("20095"), [buildLoad({ serviceAreaPrefixes: ["10"] })]);
    expect(decision).toEqual({ kind: "unassigned", reason: "no partner serves postal code 20095" });
  });

  test("when a partner serves no area at all, then it is never chosen", () => {
    expect(chooseAssignment(order(), [buildLoad({ serviceAreaPrefixes: [] })]).kind).toBe("unassigned");
  });

  test("when there are no partners, then unassigned", () => {
    expect(chooseAssignment(order(), [])).toEqual({ kind: "unassigned", reason: "no partner serves postal code 10115" });
  });

  test("when the partner serving the area is unavailable, then unassigned for availability", () => {
    const decision = chooseAssignment(order(), [buildLoad({ available: false })]);
    expect(decision).toEqual({ kind: "unassigned", reason: "no available partner serves postal code 10115" });
  });

  test("when an unavailable partner is less loaded than an available one, then the available one is chosen", () => {
    const unavailable = buildLoad({ available: false }, 0);
    const busy = buildLoad({}, 9);
    expect(chooseAssignment(order(), [unavailable, busy])).toEqual({ kind: "assigned", partnerId: busy.partner.id });
  });

  test("when the order has more items than the partner accepts, then unassigned for size", () => {
    const decision = chooseAssignment(order("10115", 6), [buildLoad({ maxOrderItems: 5 })]);
    expect(decision).toEqual({ kind: "unassigned", reason: "no partner serving postal code 10115 accepts orders of 6 items" });
  });

  test("when the order has exactly the partner's maximum, then it is accepted", () => {
    const partner = buildLoad({ maxOrderItems: 5 });
    expect(chooseAssignment(order("10115", 5), [partner])).toEqual({ kind: "assigned", partnerId: partner.partner.id });
  });

  test("when max_order_items is 0, then any size is accepted", () => {
    const partner = buildLoad({ maxOrderItems: 0 });
    expect(chooseAssignment(order("10115", 10_000), [partner])).toEqual({ kind: "assigned", partnerId: partner.partner.id });
  });

  test("when the partner has used every slot today, then unassigned for capacity", () => {
    const decision = chooseAssignment(order(), [buildLoad({ dailyCapacity: 2 }, 2)]);
    expect(decision).toEqual({ kind: "unassigned", reason: "every partner serving postal code 10115 is at its daily capacity" });
  });

  test("when the partner has one slot left, then it gets the delivery", () => {
    const partner = buildLoad({ dailyCapacity: 2 }, 1);
    expect(chooseAssignment(order(), [partner])).toEqual({ kind: "assigned", partnerId: partner.partner.id });
  });

  test("when daily capacity is 0, then the partner never takes a delivery", () => {
    expect(chooseAssignment(order(), [buildLoad({ dailyCapacity: 0 }, 0)]).kind).toBe("unassigned");
  });

  test("when partners fail different rules, then the reason is the first rule that excluded everyone (size before capacity)", () => {
    const decision = chooseAssignment(order("10115", 8), [buildLoad({ maxOrderItems: 5 }), buildLoad({ dailyCapacity: 1, maxOrderItems: 4 }, 1)]);
    expect(decision.kind === "unassigned" && decision.reason).toContain("accepts orders of 8 items");
  });
});

describe("chooseAssignment: least-loaded first", () => {
  test("when two partners fit, then the one with the lower share of its capacity used wins", () => {
    const half = buildLoad({ dailyCapacity: 10 }, 5);
    const fifth = buildLoad({ dailyCapacity: 50 }, 10);
    expect(chooseAssignment(order(), [half, fifth])).toEqual({ kind: "assigned", partnerId: fifth.partner.id });
  });

  test("when the less-loaded partner is full or too small, then the next fitting one is chosen", () => {
    const full = buildLoad({ dailyCapacity: 1 }, 1);
    const tooSmall = buildLoad({ maxOrderItems: 1 }, 0);
    const fitting = buildLoad({ dailyCapacity: 10 }, 8);
    expect(chooseAssignment(order("10115", 2), [full, tooSmall, fitting])).toEqual({ kind: "assigned", partnerId: fitting.partner.id });
  });

  test("when loads are equal, then the partner with the more specific area prefix wins", () => {
    const broad = buildLoad({ name: "A broad", serviceAreaPrefixes: ["1"] }, 2);
    const specific = buildLoad({ name: "Z specific", serviceAreaPrefixes: ["1011"] }, 2);
    expect(chooseAssignment(order(), [broad, specific])).toEqual({ kind: "assigned", partnerId: specific.partner.id });
  });

  test("when equal ratios come from different capacities, then they count as a tie (no float rounding)", () => {
    const a = buildLoad({ name: "B", dailyCapacity: 3 }, 1);
    const b = buildLoad({ name: "A", dailyCapacity: 9 }, 3);
    expect(chooseAssignment(order(), [a, b])).toEqual({ kind: "assigned", partnerId: b.partner.id });
  });

  test("when load and specificity tie, then the name decides, then the id, whatever the input order", () => {
    const bravo = buildLoad({ name: "Bravo" });
    const alphaHigh = buildLoad({ name: "Alpha", id: "00000000-0000-7000-8000-00000000ffff" });
    const alphaLow = buildLoad({ name: "Alpha", id: "00000000-0000-7000-8000-000000000001" });
    for (const loads of [
      [bravo, alphaHigh, alphaLow],
      [alphaLow, bravo, alphaHigh],
      [alphaHigh, alphaLow, bravo],
    ]) {
      expect(chooseAssignment(order(), loads)).toEqual({ kind: "assigned", partnerId: alphaLow.partner.id });
    }
  });
});
