import { InvalidArgumentError } from "@shopmesh/platform";

/** A delivery partner as stored. Prefixes are normalized (see normalizePostalCode). */
export interface PartnerRecord {
  id: string;
  name: string;
  contactEmail: string;
  phone: string;
  available: boolean;
  serviceAreaPrefixes: string[];
  dailyCapacity: number;
  /** 0 means no limit. */
  maxOrderItems: number;
  /** The identity user who acts for this partner; null when it has no login. */
  accountUserId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The client-settable fields of a partner, as read from a request. */
export type PartnerInput = Omit<PartnerRecord, "id" | "createdAt" | "updatedAt">;

/** Fields UpdatePartner may name in its mask (the contract's `in` list, in proto names). */
export const UPDATABLE_PARTNER_FIELDS = [
  "name",
  "contact_email",
  "phone",
  "available",
  "service_area_prefixes",
  "daily_capacity",
  "max_order_items",
  "account_user_id",
] as const;
export type UpdatablePartnerField = (typeof UPDATABLE_PARTNER_FIELDS)[number];

/**
 * Postal codes and prefixes are compared without spaces or dashes and case-insensitively,
 * so a partner serving "SW1" gets "sw1a 1aa" and one serving "10" gets "10-115".
 */
export function normalizePostalCode(value: string): string {
  return value.replace(/[\s-]+/g, "").toUpperCase();
}

/** Normalized, deduplicated prefixes; a prefix that normalizes to nothing is refused. */
export function normalizePrefixes(prefixes: readonly string[]): string[] {
  const normalized = prefixes.map(normalizePostalCode);
  if (normalized.some((prefix) => prefix === "")) throw new InvalidArgumentError("service_area_prefixes: a prefix must contain a letter or digit");
  return [...new Set(normalized)].sort();
}

function cleanName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === "") throw new InvalidArgumentError("name must not be blank");
  return trimmed;
}

/** A new partner from CreatePartner's input. */
export function newPartner(id: string, input: PartnerInput, now: Date): PartnerRecord {
  return {
    id,
    ...input,
    name: cleanName(input.name),
    serviceAreaPrefixes: normalizePrefixes(input.serviceAreaPrefixes),
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Applies the masked fields of `input` to `current`. Fields outside the mask keep their
 * values whatever the request carried. Returns the fields whose value actually changed.
 */
export function applyPartnerUpdate(
  current: PartnerRecord,
  input: PartnerInput,
  paths: readonly string[],
  now: Date,
): { next: PartnerRecord; changed: UpdatablePartnerField[] } {
  if (paths.length === 0) throw new InvalidArgumentError("update_mask must name at least one field");
  const next: PartnerRecord = { ...current, serviceAreaPrefixes: [...current.serviceAreaPrefixes] };
  for (const path of new Set(paths)) {
    switch (path as UpdatablePartnerField) {
      case "name":
        next.name = cleanName(input.name);
        break;
      case "contact_email":
        if (input.contactEmail === "") throw new InvalidArgumentError("contact_email cannot be cleared");
        next.contactEmail = input.contactEmail;
        break;
      case "phone":
        next.phone = input.phone;
        break;
      case "available":
        next.available = input.available;
        break;
      case "service_area_prefixes":
        next.serviceAreaPrefixes = normalizePrefixes(input.serviceAreaPrefixes);
        break;
      case "daily_capacity":
        next.dailyCapacity = input.dailyCapacity;
        break;
      case "max_order_items":
        next.maxOrderItems = input.maxOrderItems;
        break;
      case "account_user_id":
        next.accountUserId = input.accountUserId;
        break;
      default:
        throw new InvalidArgumentError(`update_mask: ${path} cannot be updated`);
    }
  }
  const changed = UPDATABLE_PARTNER_FIELDS.filter((field) => !sameValue(field, current, next));
  if (changed.length > 0) next.updatedAt = now;
  return { next, changed };
}

function sameValue(field: UpdatablePartnerField, a: PartnerRecord, b: PartnerRecord): boolean {
  switch (field) {
    case "name":
      return a.name === b.name;
    case "contact_email":
      return a.contactEmail === b.contactEmail;
    case "phone":
      return a.phone === b.phone;
    case "available":
      return a.available === b.available;
    case "service_area_prefixes":
      return a.serviceAreaPrefixes.join("\u0000") === b.serviceAreaPrefixes.join("\u0000");
    case "daily_capacity":
      return a.dailyCapacity === b.dailyCapacity;
    case "max_order_items":
      return a.maxOrderItems === b.maxOrderItems;
    case "account_user_id":
      return a.accountUserId === b.accountUserId;
  }
}
