import { InvalidArgumentError } from "@shopmesh/platform";
import { applyPartnerUpdate, newPartner, normalizePrefixes, type PartnerInput } from "./partner.js";

const buildInput = (overrides: Partial<PartnerInput> = {}): PartnerInput => ({
  name: "Speedy Couriers",
  contactEmail: "dispatch@speedy.example",
  phone: "+4930123456",
  available: true,
  serviceAreaPrefixes: ["10", "12"],
  dailyCapacity: 20,
  maxOrderItems: 10,
  accountUserId: null,
  ...overrides,
});

const created = newPartner("0190aaaa-0000-7000-8000-000000000001", buildInput(), new Date("2025-01-01T00:00:00Z"));
const later = new Date("2025-01-02T00:00:00Z");

describe("normalizePrefixes", () => {
  test("when prefixes differ only in case, spacing or dashes, then they collapse to one upper-case prefix", () => {
    expect(normalizePrefixes(["sw1", "SW 1", "10-1", "101"])).toEqual(["101", "SW1"]);
  });

  test("when a prefix is only separators, then INVALID_ARGUMENT", () => {
    expect(() => normalizePrefixes([" - "])).toThrow(InvalidArgumentError);
  });
});

describe("applyPartnerUpdate", () => {
  test("when the mask names one field, then only that field changes even if the request carries others", () => {
    const { next, changed } = applyPartnerUpdate(created, buildInput({ dailyCapacity: 5, name: "Other", available: false }), ["daily_capacity"], later);
    expect(changed).toEqual(["daily_capacity"]);
    expect(next).toEqual({ ...created, dailyCapacity: 5, updatedAt: later });
  });

  test("when the masked value equals the current one, then nothing changes and update_time stays", () => {
    const { next, changed } = applyPartnerUpdate(created, buildInput(), ["name", "service_area_prefixes"], later);
    expect(changed).toEqual([]);
    expect(next.updatedAt).toEqual(created.updatedAt);
  });

  test("when the mask sets available to false, then the partner becomes unavailable", () => {
    expect(applyPartnerUpdate(created, buildInput({ available: false }), ["available"], later).next.available).toBe(false);
  });

  test("when the name is masked but blank, then INVALID_ARGUMENT", () => {
    expect(() => applyPartnerUpdate(created, buildInput({ name: "  " }), ["name"], later)).toThrow(InvalidArgumentError);
  });

  test("when the mask names an output-only field, then INVALID_ARGUMENT", () => {
    expect(() => applyPartnerUpdate(created, buildInput(), ["create_time"], later)).toThrow(/cannot be updated/);
  });

  test("when the mask is empty, then INVALID_ARGUMENT", () => {
    expect(() => applyPartnerUpdate(created, buildInput(), [], later)).toThrow(InvalidArgumentError);
  });
});
