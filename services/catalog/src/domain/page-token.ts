import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@shopmesh/platform";
import type { ProductRecord } from "./product.js";

/** ListProducts sort orders; each is a keyset over (sort key, id). */
export type ListOrder = "newest" | "price_asc" | "price_desc" | "name";

/** Where the previous page ended, plus the request it belongs to (a token is not portable). */
export interface ListCursor {
  order: ListOrder;
  categoryId: string;
  includeInactive: boolean;
  /** Sort key of the last product shown: created_at epoch ms, price in minor units, or name. */
  key: string;
  id: string;
}

export interface SearchCursor {
  /** Digest of query and filter: a token only continues the search that issued it. */
  fingerprint: string;
  /** The search engine, or the database's "natural" relevance or prefix fallback; later pages keep the first page's mode. */
  mode: SearchMode;
  offset: number;
}

export type SearchMode = "engine" | "natural" | "prefix";

/** Search pages deeper than this are refused: relevance beyond it is noise and OFFSET costs grow. */
export const MAX_SEARCH_OFFSET = 1_000;

const ORDERS: readonly ListOrder[] = ["newest", "price_asc", "price_desc", "name"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INTEGER = /^(0|[1-9][0-9]{0,18})$/;

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function decode(token: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidToken();
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidToken();
    return value as Record<string, unknown>;
  } catch {
    throw invalidToken();
  }
}

const invalidToken = () => new InvalidArgumentError("page_token is invalid");

/** The sort key a product has under `order`, as stored in a cursor. */
export function sortKey(order: ListOrder, product: ProductRecord): string {
  switch (order) {
    case "newest":
      return String(product.createdAt.getTime());
    case "price_asc":
    case "price_desc":
      return product.priceMinor.toString();
    case "name":
      return product.name;
  }
}

export function encodeListCursor(cursor: ListCursor): string {
  return encode({ v: 1, o: cursor.order, c: cursor.categoryId, i: cursor.includeInactive, k: cursor.key, id: cursor.id });
}

/** Decodes a ListProducts token and checks it belongs to a request with the same filters and order. */
export function decodeListCursor(token: string, request: Pick<ListCursor, "order" | "categoryId" | "includeInactive">): ListCursor {
  const raw = decode(token);
  const { v, o, c, i, k, id } = raw;
  if (v !== 1 || typeof o !== "string" || !ORDERS.includes(o as ListOrder) || typeof c !== "string" || typeof i !== "boolean") throw invalidToken();
  if (typeof k !== "string" || typeof id !== "string" || !UUID.test(id)) throw invalidToken();
  const order = o as ListOrder;
  if (order !== "name" && !INTEGER.test(k)) throw invalidToken();
  if (order === "name" && k.length > 200) throw invalidToken();
  if (order !== request.order || c !== request.categoryId || i !== request.includeInactive) {
    throw new InvalidArgumentError("page_token belongs to a request with other filters or order");
  }
  return { order, categoryId: c, includeInactive: i, key: k, id };
}

/** A digest of what a search asked for, so a token cannot be replayed against another query. */
export function searchFingerprint(query: string, ...filters: string[]): string {
  return createHash("sha256")
    .update([query, ...filters].join("\u0000"))
    .digest("base64url")
    .slice(0, 16);
}

export function encodeSearchCursor(cursor: SearchCursor): string {
  return encode({ v: 1, f: cursor.fingerprint, m: cursor.mode, n: cursor.offset });
}

export function decodeSearchCursor(token: string, fingerprint: string): SearchCursor {
  const { v, f, m, n } = decode(token);
  if (
    v !== 1 ||
    typeof f !== "string" ||
    (m !== "engine" && m !== "natural" && m !== "prefix") ||
    typeof n !== "number" ||
    !Number.isInteger(n) ||
    n < 1 ||
    n > MAX_SEARCH_OFFSET
  ) {
    throw invalidToken();
  }
  if (f !== fingerprint) throw new InvalidArgumentError("page_token belongs to another search");
  return { fingerprint: f, mode: m, offset: n };
}

/** Where the previous ListCategories page ended. */
export interface CategoryCursor {
  name: string;
  id: string;
}

export function encodeCategoryCursor(cursor: CategoryCursor): string {
  return encode({ v: 1, t: "category", n: cursor.name, id: cursor.id });
}

export function decodeCategoryCursor(token: string): CategoryCursor {
  const { v, t, n, id } = decode(token);
  if (v !== 1 || t !== "category" || typeof n !== "string" || n.length > 100 || typeof id !== "string" || !UUID.test(id)) throw invalidToken();
  return { name: n, id };
}
