import { InvalidArgumentError } from "@shopmesh/platform";

/** A product as the catalog stores it. Money stays in minor units (bigint), never floats. */
export interface ProductRecord {
  id: string;
  sku: string;
  name: string;
  description: string;
  categoryId: string;
  priceMinor: bigint;
  currency: string;
  attributes: Record<string, string>;
  imageUrl: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** 1 when created, one more per change (see Product.version). */
  version: number;
}

export interface CategoryRecord {
  id: string;
  slug: string;
  name: string;
  description: string;
}

/** The values an update may carry; only the fields named in the mask are read. */
export interface ProductPatch {
  sku: string;
  name: string;
  description: string;
  categoryId: string;
  price: { currency: string; amountMinor: bigint } | undefined;
  attributes: Record<string, string>;
  imageUrl: string;
  active: boolean;
}

/** Field-mask paths a client may set (the contract lists the same ones). */
export const UPDATABLE_FIELDS = ["sku", "name", "description", "category_id", "price", "attributes", "image_url", "active"] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

const isUpdatable = (path: string): path is UpdatableField => (UPDATABLE_FIELDS as readonly string[]).includes(path);

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/**
 * Applies the masked fields of `patch` to `current`. Fields outside the mask keep their
 * values; required fields cannot be cleared. Returns the new record and the paths whose
 * values actually changed (none: nothing to write, no event).
 */
export function applyProductUpdate(
  current: ProductRecord,
  patch: ProductPatch,
  paths: readonly string[],
  now: Date,
): { next: ProductRecord; changed: UpdatableField[] } {
  if (paths.length === 0) throw new InvalidArgumentError("update_mask must name at least one field");
  const next: ProductRecord = { ...current, attributes: { ...current.attributes } };
  const changed: UpdatableField[] = [];
  for (const path of new Set(paths)) {
    if (!isUpdatable(path)) throw new InvalidArgumentError(`update_mask: ${path} cannot be updated`);
    switch (path) {
      case "sku":
        if (patch.sku === "") throw new InvalidArgumentError("sku cannot be cleared");
        next.sku = patch.sku;
        break;
      case "name":
        if (patch.name.trim() === "") throw new InvalidArgumentError("name cannot be cleared");
        next.name = patch.name.trim();
        break;
      case "description":
        next.description = patch.description;
        break;
      case "category_id":
        if (patch.categoryId === "") throw new InvalidArgumentError("category_id cannot be cleared");
        next.categoryId = patch.categoryId;
        break;
      case "price":
        if (!patch.price) throw new InvalidArgumentError("price cannot be cleared");
        next.priceMinor = patch.price.amountMinor;
        next.currency = patch.price.currency;
        break;
      case "attributes":
        next.attributes = { ...patch.attributes };
        break;
      case "image_url":
        next.imageUrl = patch.imageUrl;
        break;
      case "active":
        next.active = patch.active;
        break;
    }
  }
  for (const path of new Set(paths) as Set<UpdatableField>) {
    if (!fieldEquals(path, current, next)) changed.push(path);
  }
  if (changed.length > 0) {
    next.updatedAt = now;
    next.version = current.version + 1;
  }
  return { next, changed };
}

function fieldEquals(path: UpdatableField, a: ProductRecord, b: ProductRecord): boolean {
  switch (path) {
    case "sku":
      return a.sku === b.sku;
    case "name":
      return a.name === b.name;
    case "description":
      return a.description === b.description;
    case "category_id":
      return a.categoryId === b.categoryId;
    case "price":
      return a.priceMinor === b.priceMinor && a.currency === b.currency;
    case "attributes":
      return sameAttributes(a.attributes, b.attributes);
    case "image_url":
      return a.imageUrl === b.imageUrl;
    case "active":
      return a.active === b.active;
  }
}
