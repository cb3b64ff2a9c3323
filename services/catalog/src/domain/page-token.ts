import { createPageTokenCodec } from "@shopmesh/platform";
import { z } from "zod";
import type { ProductRecord } from "./product.js";

/** ListProducts sort orders; each is a keyset over (sort key, id). */
export type ListOrder = "newest" | "price_asc" | "price_desc" | "name";

export type SearchMode = "engine" | "natural" | "prefix";

/** Search pages deeper than this are refused: relevance beyond it is noise and OFFSET costs grow. */
export const MAX_SEARCH_OFFSET = 1_000;

const INTEGER = /^(0|[1-9][0-9]{0,18})$/;
const LIST_ORDERS = ["newest", "price_asc", "price_desc", "name"] as const satisfies readonly ListOrder[];

/**
 * Where the previous ListProducts page ended: the sort key of the last product shown
 * (created_at epoch ms, price in minor units, or name) and its id. Tokens are bound to the
 * request's order and filters; the order also says which keys are well-formed, since the key
 * goes into SQL as a number for every order but `name`.
 */
export const listPageTokens = createPageTokenCodec(
  "catalog.products",
  z.object({ order: z.enum(LIST_ORDERS), key: z.string().max(200), id: z.guid() }).refine((cursor) => cursor.order === "name" || INTEGER.test(cursor.key)),
);

export type ListCursor = NonNullable<ReturnType<typeof listPageTokens.decode>>;

/** The fields a ListProducts token is bound to, in a fixed order. */
export const listScope = (request: { order: ListOrder; categoryId: string; includeInactive: boolean }) =>
  [request.order, request.categoryId, request.includeInactive] as const;

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

/**
 * How far into a search the previous page ended, and which backend served the first page
 * (later pages keep it). Tokens are bound to the query and filters of the search that issued them.
 */
export const searchPageTokens = createPageTokenCodec(
  "catalog.search",
  z.object({ mode: z.enum(["engine", "natural", "prefix"]), offset: z.number().int().min(1).max(MAX_SEARCH_OFFSET) }),
);

/** Where the previous ListCategories page ended (by name, then id). */
export const categoryPageTokens = createPageTokenCodec("catalog.categories", z.object({ name: z.string().max(100), id: z.guid() }));
