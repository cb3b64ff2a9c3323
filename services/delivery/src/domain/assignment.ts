import { normalizePostalCode, type PartnerRecord } from "./partner.js";

/** What assignment needs to know about a delivery. */
export interface AssignmentOrder {
  postalCode: string;
  itemCount: number;
}

/** A partner together with how many deliveries it was assigned today. */
export interface PartnerLoad {
  partner: Pick<PartnerRecord, "id" | "name" | "available" | "serviceAreaPrefixes" | "dailyCapacity" | "maxOrderItems">;
  assignedToday: number;
}

export type AssignmentDecision = { kind: "assigned"; partnerId: string } | { kind: "unassigned"; reason: string };

/** Length of the longest of `prefixes` that starts `postalCode` (both normalized), 0 when none does. */
export function longestMatchingPrefix(postalCode: string, prefixes: readonly string[]): number {
  const code = normalizePostalCode(postalCode);
  let longest = 0;
  for (const prefix of prefixes) {
    const normalized = normalizePostalCode(prefix);
    if (normalized !== "" && code.startsWith(normalized) && normalized.length > longest) longest = normalized.length;
  }
  return longest;
}

export const servesArea = (partner: PartnerLoad["partner"], postalCode: string) => longestMatchingPrefix(postalCode, partner.serviceAreaPrefixes) > 0;
export const acceptsSize = (partner: PartnerLoad["partner"], itemCount: number) => partner.maxOrderItems === 0 || itemCount <= partner.maxOrderItems;
export const hasCapacity = (load: PartnerLoad) => load.assignedToday < load.partner.dailyCapacity;

/**
 * Orders candidates: least loaded first (assigned today / daily capacity, compared by cross
 * multiplication so no float rounding decides), then the more specific area match (longest
 * prefix), then name, then id — so the same inputs always give the same partner.
 */
function compareCandidates(postalCode: string) {
  return (a: PartnerLoad, b: PartnerLoad): number => {
    const load = a.assignedToday * b.partner.dailyCapacity - b.assignedToday * a.partner.dailyCapacity;
    if (load !== 0) return load;
    const specificity = longestMatchingPrefix(postalCode, b.partner.serviceAreaPrefixes) - longestMatchingPrefix(postalCode, a.partner.serviceAreaPrefixes);
    if (specificity !== 0) return specificity;
    if (a.partner.name !== b.partner.name) return a.partner.name < b.partner.name ? -1 : 1;
    return a.partner.id < b.partner.id ? -1 : a.partner.id > b.partner.id ? 1 : 0;
  };
}

/**
 * Picks the partner for a delivery: it must serve the postal code, be available, have
 * capacity left today and accept the order's size; among those the least loaded wins.
 * When none fits, the reason names the first rule that ruled every partner out, in the
 * order an operator would fix them (area, availability, size, capacity).
 */
export function chooseAssignment(order: AssignmentOrder, loads: readonly PartnerLoad[]): AssignmentDecision {
  const code = normalizePostalCode(order.postalCode);
  const inArea = loads.filter((load) => servesArea(load.partner, code));
  if (inArea.length === 0) return { kind: "unassigned", reason: `no partner serves postal code ${order.postalCode}` };
  const available = inArea.filter((load) => load.partner.available);
  if (available.length === 0) return { kind: "unassigned", reason: `no available partner serves postal code ${order.postalCode}` };
  const sized = available.filter((load) => acceptsSize(load.partner, order.itemCount));
  if (sized.length === 0)
    return { kind: "unassigned", reason: `no partner serving postal code ${order.postalCode} accepts orders of ${order.itemCount} items` };
  const withCapacity = sized.filter(hasCapacity);
  if (withCapacity.length === 0) return { kind: "unassigned", reason: `every partner serving postal code ${order.postalCode} is at its daily capacity` };
  const [best] = [...withCapacity].sort(compareCandidates(code));
  return { kind: "assigned", partnerId: best!.partner.id };
}
