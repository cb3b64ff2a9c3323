import { createHash } from "node:crypto";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type CatalogService, type SearchProductsRequest } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import type { Counter } from "prom-client";
import { callerKey, hasRole, InvalidArgumentError, NotFoundError, PermissionDeniedError, type Logger, type PageTokenScope } from "@shopmesh/platform";
import type { CatalogCache, ListPage } from "../cache/catalog-cache.js";
import type { ProductWrites } from "../products.js";
import { categoryPageTokens, listPageTokens, listScope, MAX_SEARCH_OFFSET, searchPageTokens, sortKey, type SearchMode } from "../domain/page-token.js";
import { prefixQuery } from "../domain/search-query.js";
import type { CategoryStore } from "../store/categories.js";
import type { ProductStore } from "../store/products.js";
import { SearchUnavailableError } from "../search/product-index.js";
import type { ProductSearch } from "../search/product-search.js";
import { toCategory, toFacet, toListOrder, toPatch, toProduct, toSearchOrder } from "./convert.js";

export interface CatalogDeps {
  products: ProductStore;
  categories: CategoryStore;
  cache: CatalogCache;
  logger: Logger;
  /** The use cases that change the catalog (../products.ts). */
  writes: ProductWrites;
  /** The search engine; without it (or while it is away) search is served by the database. */
  search?: ProductSearch | undefined;
  /** How long a search may wait for the engine before the database answers instead. */
  searchTimeoutMs: number;
  /** Searches by backend: `engine`, or `database` (no engine configured, or the fallback). */
  searchRequests: Counter<"backend">;
}

const DEFAULT_PAGE_SIZE = 20;
const DEFAULT_CATEGORY_PAGE_SIZE = 100;
const DEFAULT_SUGGESTIONS = 5;

const isAdmin = (ctx: HandlerContext) => hasRole(ctx.values.get(callerKey), "admin");

export function createCatalogService(deps: CatalogDeps): ServiceImpl<typeof CatalogService> {
  const { products, categories, cache, writes } = deps;

  /** The engine's share of the caller's deadline: at most half, so the fallback still has time. */
  const engineBudget = (ctx: HandlerContext) => {
    const remaining = ctx.timeoutMs();
    return Math.max(50, Math.min(deps.searchTimeoutMs, remaining === undefined ? Infinity : remaining / 2));
  };

  async function searchEngine(
    search: ProductSearch,
    request: SearchProductsRequest,
    text: string,
    page: { scope: PageTokenScope; offset: number; limit: number; timeoutMs: number },
  ) {
    const result = await search.search(
      {
        text,
        categoryId: request.categoryId,
        brands: request.brands,
        minPriceMinor: request.minPriceMinor,
        maxPriceMinor: request.maxPriceMinor,
        inStock: request.inStock,
        order: toSearchOrder(request.orderBy),
        offset: page.offset,
        limit: page.limit,
      },
      page.timeoutMs,
    );
    deps.searchRequests.inc({ backend: "engine" });
    // The index finds; the database (through the cache) tells what the product is now.
    const found = await cache.getProducts(
      result.hits.map((hit) => hit.id),
      (ids) => products.findByIds(ids),
    );
    const shown = result.hits.filter((hit) => found.get(hit.id)?.active);
    const nextOffset = page.offset + page.limit;
    const more = result.total > nextOffset && nextOffset <= MAX_SEARCH_OFFSET;
    return {
      products: shown.map((hit) => toProduct(found.get(hit.id)!)),
      relevanceScores: shown.map((hit) => hit.score),
      nextPageToken: more ? searchPageTokens.encode({ mode: "engine", offset: nextOffset }, page.scope) : "",
      facets: result.facets.map(toFacet),
      suggestedQuery: result.suggestedQuery,
      degraded: false,
    };
  }

  /** MariaDB FULLTEXT: relevance without typo tolerance, facets or the newer filters' counts. */
  async function searchDatabase(
    request: SearchProductsRequest,
    text: string,
    page: { scope: PageTokenScope; cursor: { mode: SearchMode } | undefined; offset: number; limit: number },
  ) {
    const filters = {
      categoryId: request.categoryId,
      brands: request.brands,
      minPriceMinor: request.minPriceMinor,
      maxPriceMinor: request.maxPriceMinor,
      inStock: request.inStock,
    };
    const run = (mode: "natural" | "prefix", against: string) =>
      products.search({ against, mode, ...filters, order: toSearchOrder(request.orderBy), offset: page.offset, limit: page.limit + 1 });
    let mode: "natural" | "prefix" = page.cursor?.mode === "prefix" ? "prefix" : "natural";
    let hits = mode === "natural" ? await run("natural", text) : [];
    if (mode === "prefix" || (hits.length === 0 && !page.cursor)) {
      // Nothing for the words as typed: try them as prefixes (partial words, late typos).
      const prefix = prefixQuery(text);
      mode = "prefix";
      hits = prefix ? await run("prefix", prefix) : [];
    }
    const shown = hits.slice(0, page.limit);
    const nextOffset = page.offset + page.limit;
    const more = hits.length > page.limit && nextOffset <= MAX_SEARCH_OFFSET;
    return {
      products: shown.map((hit) => toProduct(hit.product)),
      relevanceScores: shown.map((hit) => hit.score),
      nextPageToken: more ? searchPageTokens.encode({ mode, offset: nextOffset }, page.scope) : "",
    };
  }

  return {
    async getProduct(request, ctx) {
      const product = await cache.getProduct(request.productId, () => products.findById(request.productId));
      if (!product || (!product.active && !isAdmin(ctx))) throw new NotFoundError(`product ${request.productId} not found`);
      return { product: toProduct(product) };
    },

    async batchGetProducts(request) {
      const found = await cache.getProducts(request.ids, (ids) => products.findByIds(ids));
      const present = request.ids.flatMap((id) => (found.has(id) ? [toProduct(found.get(id)!)] : []));
      return { products: present, missingIds: request.ids.filter((id) => !found.has(id)) };
    },

    async listProducts(request, ctx) {
      if (request.includeInactive && !isAdmin(ctx)) throw new PermissionDeniedError("include_inactive requires the admin role");
      const order = toListOrder(request.orderBy);
      const filters = { order, categoryId: request.categoryId, includeInactive: request.includeInactive };
      const scope = listScope(filters);
      const after = listPageTokens.decode(request.pageToken, scope);
      const limit = request.pageSize || DEFAULT_PAGE_SIZE;
      const requestKey = createHash("sha256")
        .update(JSON.stringify([order, request.categoryId, request.includeInactive, limit, request.pageToken]))
        .digest("base64url");
      const page = await cache.getListPage(requestKey, async (): Promise<ListPage> => {
        // One extra row says whether another page exists without a COUNT.
        const rows = await products.list({ ...filters, after, limit: limit + 1 });
        const { items, nextPageToken } = listPageTokens.page(rows, limit, (last) => ({ order, key: sortKey(order, last), id: last.id }), scope);
        return { products: items, nextPageToken };
      });
      return { products: page.products.map(toProduct), nextPageToken: page.nextPageToken };
    },

    async searchProducts(request, ctx) {
      const text = request.query.trim();
      if (text === "") throw new InvalidArgumentError("query must contain a word");
      // A token only continues the search that issued it: same words, filters and order.
      const scope = [
        text,
        request.categoryId,
        [...request.brands].sort().join("\u0001"),
        request.minPriceMinor,
        request.maxPriceMinor,
        request.orderBy,
        request.inStock,
      ];
      const cursor = searchPageTokens.decode(request.pageToken, scope);
      const limit = request.pageSize || DEFAULT_PAGE_SIZE;
      const offset = cursor?.offset ?? 0;
      // Later pages stay with the backend of the first page, so a page never repeats or skips.
      if (deps.search && (!cursor || cursor.mode === "engine")) {
        try {
          return await searchEngine(deps.search, request, text, { scope, offset, limit, timeoutMs: engineBudget(ctx) });
        } catch (err) {
          if (!(err instanceof SearchUnavailableError)) throw err;
          deps.logger.warn({ err: err.message }, "search engine unavailable: answering from the database");
        }
      }
      deps.searchRequests.inc({ backend: "database" });
      return { ...(await searchDatabase(request, text, { scope, cursor, offset, limit })), degraded: Boolean(deps.search) };
    },

    async suggestProducts(request, ctx) {
      const prefix = request.prefix.trim();
      if (prefix === "" || !deps.search) return { suggestions: [] };
      try {
        return { suggestions: await deps.search.suggest(prefix, request.limit || DEFAULT_SUGGESTIONS, engineBudget(ctx)) };
      } catch (err) {
        // Suggestions are a convenience: without the engine there are none, and typing goes on.
        if (err instanceof SearchUnavailableError) return { suggestions: [] };
        throw err;
      }
    },

    async listCategories(request) {
      const after = categoryPageTokens.decode(request.pageToken);
      const limit = request.pageSize || DEFAULT_CATEGORY_PAGE_SIZE;
      const { items, nextPageToken } = categoryPageTokens.page(await categories.list(after, limit + 1), limit, ({ name, id }) => ({ name, id }));
      return { categories: items.map(toCategory), nextPageToken };
    },

    async createCategory(request) {
      return { category: toCategory(await writes.createCategory(request.category!)) };
    },

    async createProduct(request) {
      return { product: toProduct(await writes.createProduct(toPatch(request.product!))) };
    },

    async updateProduct(request) {
      const input = request.product!;
      return { product: toProduct(await writes.updateProduct(input.id, toPatch(input), request.updateMask!.paths)) };
    },

    async deleteProduct(request) {
      return { product: toProduct(await writes.deleteProduct(request.productId)) };
    },
  };
}
