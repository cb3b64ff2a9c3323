// Queries against the product index: relevance with field boosts and typo tolerance, filters,
// sort, facet counts and "did you mean"; and suggestions as you type. The shopper's text only
// ever reaches OpenSearch as the value of a structured query (multi_match, match, term
// suggester): query syntax characters in it are just characters.
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleType } from "cockatiel";
import type { SearchFilters, SearchOrder } from "../domain/search-query.js";
import type { ProductIndex } from "./product-index.js";
import { engineCall, SearchUnavailableError } from "./product-index.js";

export interface ProductSearchQuery extends SearchFilters {
  text: string;
  offset: number;
  limit: number;
}

export interface FacetCounts {
  field: "category_id" | "brand" | "price";
  values: Array<{ value: string; count: number }>;
}

export interface ProductSearchResult {
  hits: Array<{ id: string; score: number }>;
  total: number;
  facets: FacetCounts[];
  /** The query with its words corrected, when nothing matched and the index knows better words. */
  suggestedQuery: string;
}

/** Price facet buckets, in minor units: [from, to) each; the last is open. */
export const PRICE_BUCKETS: ReadonlyArray<readonly [number, number | undefined]> = [
  [0, 2_500],
  [2_500, 5_000],
  [5_000, 10_000],
  [10_000, 25_000],
  [25_000, 50_000],
  [50_000, undefined],
];

const SORTS: Record<SearchOrder, unknown[]> = {
  relevance: ["_score", { id: "asc" }],
  price_asc: [{ price_minor: "asc" }, { id: "asc" }],
  price_desc: [{ price_minor: "desc" }, { id: "asc" }],
  newest: [{ created_at: "desc" }, { id: "asc" }],
};

type Clause = Record<string, unknown>;

/** The filters a facet may ignore: a facet counts as if its own filter were not set. */
function facetFilters(query: ProductSearchQuery): Record<FacetCounts["field"], Clause | undefined> {
  const price: Record<string, number> = {};
  if (query.minPriceMinor > 0n) price["gte"] = Number(query.minPriceMinor);
  if (query.maxPriceMinor > 0n) price["lte"] = Number(query.maxPriceMinor);
  return {
    category_id: query.categoryId ? { term: { category_id: query.categoryId } } : undefined,
    brand: query.brands.length > 0 ? { terms: { "brand.keyword": [...query.brands] } } : undefined,
    price: Object.keys(price).length > 0 ? { range: { price_minor: price } } : undefined,
  };
}

/** The OpenSearch request body of a search (exported for tests of what reaches the engine). */
export function searchBody(query: ProductSearchQuery): Clause {
  const filters = facetFilters(query);
  const except = (field: FacetCounts["field"]) =>
    Object.entries(filters)
      .filter(([name, clause]) => name !== field && clause)
      .map(([, clause]) => clause!);
  const facetAggregation = (field: FacetCounts["field"], aggregation: Clause) => ({
    filter: { bool: { filter: except(field) } },
    aggs: { values: aggregation },
  });
  return {
    from: query.offset,
    size: query.limit,
    track_total_hits: true,
    _source: false,
    query: {
      bool: {
        must: [
          {
            multi_match: {
              query: query.text,
              // name > brand > description; sku matches only as a whole (keyword).
              fields: ["name^3", "brand^2", "description", "sku^4"],
              type: "best_fields",
              operator: "and",
              fuzziness: "AUTO",
              prefix_length: 1,
              lenient: true,
            },
          },
        ],
        // In stock narrows the facets too: it is not a facet of its own.
        filter: [{ term: { active: true } }, ...(query.inStock ? [{ term: { in_stock: true } }] : [])],
      },
    },
    // Facet filters apply to the hits after the aggregations saw the wider set.
    post_filter: { bool: { filter: Object.values(filters).filter(Boolean) } },
    aggs: {
      category_id: facetAggregation("category_id", { terms: { field: "category_id", size: 20 } }),
      brand: facetAggregation("brand", { terms: { field: "brand.keyword", size: 20 } }),
      price: facetAggregation("price", {
        range: { field: "price_minor", ranges: PRICE_BUCKETS.map(([from, to]) => ({ key: `${from}-${to ?? ""}`, from, ...(to ? { to } : {}) })) },
      }),
    },
    sort: SORTS[query.order],
    suggest: { text: query.text, spelling: { term: { field: "name.plain", suggest_mode: "missing", size: 1 } } },
  };
}

interface SearchResponseBody {
  hits: { total: { value: number }; hits: Array<{ _id: string; _score: number | null }> };
  aggregations: Record<FacetCounts["field"], { values: { buckets: Array<{ key: string; doc_count: number }> } }>;
  suggest?: { spelling?: Array<{ text: string; offset: number; length: number; options: Array<{ text: string }> }> };
}

/** The query with each word the suggester corrected replaced by its best correction ("" if none). */
function correctedQuery(text: string, spelling: NonNullable<SearchResponseBody["suggest"]>["spelling"]): string {
  if (!spelling) return "";
  let corrected = "";
  let at = 0;
  let changed = false;
  for (const entry of spelling) {
    const better = entry.options[0]?.text;
    corrected += text.slice(at, entry.offset) + (better ?? text.slice(entry.offset, entry.offset + entry.length));
    at = entry.offset + entry.length;
    if (better) changed = true;
  }
  return changed ? corrected + text.slice(at) : "";
}

export function createProductSearch(index: ProductIndex) {
  // After 3 failures in a row, searches skip the engine for 5 s (straight to the fallback)
  // instead of each waiting out a timeout; then one request probes it again.
  const breaker = circuitBreaker(handleType(SearchUnavailableError), { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(3) });
  const guarded = <T>(work: () => Promise<T>): Promise<T> =>
    breaker.execute(work).catch((err: unknown) => {
      throw err instanceof BrokenCircuitError ? new SearchUnavailableError("search engine unavailable (circuit open)") : err;
    });
  return {
    async search(query: ProductSearchQuery, timeoutMs: number): Promise<ProductSearchResult> {
      const response = await guarded(() =>
        engineCall(() => index.client.search({ index: index.alias, body: searchBody(query) }, { requestTimeout: timeoutMs })),
      );
      const body = response.body as unknown as SearchResponseBody;
      const total = body.hits.total.value;
      return {
        hits: body.hits.hits.map((hit) => ({ id: hit._id, score: hit._score ?? 0 })),
        total,
        facets: (["category_id", "brand", "price"] as const).map((field) => ({
          field,
          values: body.aggregations[field].values.buckets
            .filter((bucket) => bucket.doc_count > 0)
            .map((bucket) => ({ value: bucket.key, count: bucket.doc_count })),
        })),
        suggestedQuery: total === 0 ? correctedQuery(query.text, body.suggest?.spelling) : "",
      };
    },

    /** Names of active products whose words start with what was typed, best first. */
    async suggest(prefix: string, limit: number, timeoutMs: number): Promise<Array<{ text: string; productId: string }>> {
      const response = await guarded(() =>
        engineCall(() =>
          index.client.search(
            {
              index: index.alias,
              body: {
                size: limit,
                _source: ["name"],
                query: { bool: { must: [{ match: { "name.prefixes": { query: prefix, operator: "and" } } }], filter: [{ term: { active: true } }] } },
                sort: ["_score", { id: "asc" }],
              },
            },
            { requestTimeout: timeoutMs },
          ),
        ),
      );
      const hits = (response.body as unknown as { hits: { hits: Array<{ _id: string; _source: { name: string } }> } }).hits.hits;
      return hits.map((hit) => ({ text: hit._source.name, productId: hit._id }));
    },
  };
}

export type ProductSearch = ReturnType<typeof createProductSearch>;
