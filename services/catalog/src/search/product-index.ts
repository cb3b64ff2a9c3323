// The product search index on OpenSearch: what a document holds, how the index is analysed,
// and the writes the indexer and the reindex make. The catalog's database stays the source of
// truth; the index holds only what search needs, and answers with product ids.
import { Client, errors } from "@opensearch-project/opensearch";
import type { Indices_Create_RequestBody } from "@opensearch-project/opensearch/api/index.js";
import { DependencyUnavailableError } from "@shopmesh/platform/data";
import type { ProductRecord } from "../domain/product.js";
import type { StockLevel } from "../store/stock.js";

/** One product as the index stores it. A deleted product stays as a tombstone (`active: false`). */
export interface ProductDocument {
  id: string;
  name?: string;
  brand?: string;
  description?: string;
  sku?: string;
  category_id?: string;
  price_minor?: number;
  currency?: string;
  created_at?: string;
  active: boolean;
  version: number;
  /** Units available > 0, as inventory's last StockChanged said (absent: never reported). */
  in_stock?: boolean;
  /** When that stock level changed (epoch ms): orders stock writes like `version` orders product writes. */
  stock_changed_ms?: number;
}

/** The `brand` attribute is the product's brand (the demo catalog and the admin UI set it). */
export const BRAND_ATTRIBUTE = "brand";

export function toDocument(product: ProductRecord, stock?: StockLevel): ProductDocument {
  return {
    id: product.id,
    name: product.name,
    // No brand, no value: an empty string would be counted as a brand of its own.
    ...(product.attributes[BRAND_ATTRIBUTE] ? { brand: product.attributes[BRAND_ATTRIBUTE] } : {}),
    description: product.description,
    sku: product.sku,
    category_id: product.categoryId,
    price_minor: Number(product.priceMinor),
    currency: product.currency,
    created_at: product.createdAt.toISOString(),
    active: product.active,
    version: product.version,
    ...(stock ? stockFields(stock) : {}),
  };
}

const stockFields = (stock: StockLevel) => ({ in_stock: stock.available > 0, stock_changed_ms: stock.changedAt.getTime() });

/**
 * English stemming for the text fields (the `english` analyzer of the analysis-common module
 * the infra scripts install), edge n-grams of the name for suggestions as you type, and a
 * plain copy of the name for "did you mean". Strict mapping: a field nobody declared is an
 * error, not a silently new field.
 */
const INDEX_BODY: Indices_Create_RequestBody = {
  settings: {
    number_of_shards: 1,
    number_of_replicas: 0,
    analysis: {
      filter: { name_prefixes: { type: "edge_ngram", min_gram: 1, max_gram: 20 } },
      analyzer: {
        name_prefixes: { type: "custom", tokenizer: "standard", filter: ["lowercase", "asciifolding", "name_prefixes"] },
        plain_words: { type: "custom", tokenizer: "standard", filter: ["lowercase", "asciifolding"] },
      },
    },
  },
  mappings: {
    dynamic: "strict",
    properties: {
      id: { type: "keyword" },
      name: {
        type: "text",
        analyzer: "english",
        fields: {
          prefixes: { type: "text", analyzer: "name_prefixes", search_analyzer: "plain_words" },
          plain: { type: "text", analyzer: "plain_words" },
        },
      },
      brand: { type: "text", analyzer: "plain_words", fields: { keyword: { type: "keyword" } } },
      description: { type: "text", analyzer: "english" },
      sku: { type: "keyword" },
      category_id: { type: "keyword" },
      price_minor: { type: "long" },
      currency: { type: "keyword" },
      created_at: { type: "date" },
      active: { type: "boolean" },
      version: { type: "long" },
      in_stock: { type: "boolean" },
      stock_changed_ms: { type: "long" },
    },
  },
};

/**
 * A product and its stock arrive on different topics, in either order, so a write merges into
 * the stored document instead of replacing it. The product keeps the highest `version` (a late,
 * older event is stale) and a document keeps whichever stock level is newer. The minimal
 * distribution has no scripting module, so each merge is a read, then a write conditional on
 * the read's sequence number, retried when another write came in between.
 */
function mergeProduct(current: ProductDocument | undefined, next: ProductDocument): ProductDocument | undefined {
  if (current && current.version >= next.version) return undefined;
  const keepStock = current?.stock_changed_ms !== undefined && (next.stock_changed_ms === undefined || current.stock_changed_ms > next.stock_changed_ms);
  return keepStock ? { ...next, in_stock: current.in_stock, stock_changed_ms: current.stock_changed_ms } : next;
}

/** Before its product arrives, a stock level waits in a placeholder no search shows (inactive, version 0). */
function mergeStock(current: ProductDocument | undefined, stock: StockLevel): ProductDocument | undefined {
  const fields = stockFields(stock);
  if (current?.stock_changed_ms !== undefined && current.stock_changed_ms > fields.stock_changed_ms) return undefined;
  return { ...(current ?? { id: stock.productId, active: false, version: 0 }), ...fields };
}

const MERGE_ATTEMPTS = 10;

/** The search engine did not answer (down, unreachable, too slow): searches fall back, the indexer waits. */
export class SearchUnavailableError extends DependencyUnavailableError {
  override name = "SearchUnavailableError";
}

/** Connection-level failures and server-side unavailability, as opposed to a rejected request. */
export function isEngineUnavailable(err: unknown): boolean {
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) return true;
  if (err instanceof errors.ResponseError) return err.statusCode === undefined || err.statusCode >= 500 || err.statusCode === 429;
  return false;
}

/** Runs `work`; an engine that is away becomes SearchUnavailableError, anything else stays as it is. */
export async function engineCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isEngineUnavailable(err)) throw new SearchUnavailableError(`search engine unavailable: ${(err as Error).message.slice(0, 200)}`);
    throw err;
  }
}

export function createSearchClient(url: string, requestTimeoutMs = 2_000): Client {
  // No client-side retries: the indexer's consumer retries, and a search falls back instead.
  return new Client({ node: url, requestTimeout: requestTimeoutMs, maxRetries: 0 });
}

export type WriteOutcome = "written" | "stale";

/**
 * The product index behind the alias `<prefix>shopmesh-products`. Searches and event writes go
 * through the alias; a reindex builds a new concrete index and swaps the alias in one step.
 */
export function createProductIndex(client: Client, prefix = "") {
  const alias = `${prefix}shopmesh-products`;
  const isConflict = (err: unknown) => err instanceof errors.ResponseError && err.statusCode === 409;

  /** Reads the document, merges, and writes only if nobody wrote in between; "stale" when the merge found something newer. */
  async function mergeInto(id: string, merge: (current: ProductDocument | undefined) => ProductDocument | undefined, index = alias): Promise<WriteOutcome> {
    for (let attempt = 1; ; attempt++) {
      const stored = await engineCall(() => client.get({ index, id }, { ignore: [404] }));
      const body = stored.body as { found?: boolean; _source?: ProductDocument; _seq_no?: number; _primary_term?: number };
      const document = merge(body.found ? body._source : undefined);
      if (!document) return "stale";
      try {
        // require_alias: with the alias missing, a write must fail, not create an unmapped index.
        const condition = body.found ? { if_seq_no: body._seq_no, if_primary_term: body._primary_term } : { op_type: "create" as const };
        await engineCall(() => client.index({ index, id, body: document, ...condition, require_alias: index === alias }));
        return "written";
      } catch (err) {
        if (!isConflict(err) || attempt === MERGE_ATTEMPTS) throw err;
      }
    }
  }

  /** Merges many, a few at a time (the reindex's catch-up). */
  async function mergeAll<T>(items: T[], write: (item: T) => Promise<WriteOutcome>): Promise<{ written: number; stale: number }> {
    const outcomes: WriteOutcome[] = [];
    for (let at = 0; at < items.length; at += 8) outcomes.push(...(await Promise.all(items.slice(at, at + 8).map(write))));
    const written = outcomes.filter((outcome) => outcome === "written").length;
    return { written, stale: outcomes.length - written };
  }

  return {
    alias,
    client,

    /** Creates the first concrete index and the alias when there is none (idempotent, race-safe). */
    async ensure(): Promise<void> {
      const exists = await engineCall(() => client.indices.existsAlias({ name: alias }));
      if (exists.body) {
        // An index from an earlier release gains fields added since (mappings only grow).
        await engineCall(() => client.indices.putMapping({ index: alias, body: { properties: INDEX_BODY.mappings!.properties! } }));
        return;
      }
      const index = await this.createIndex();
      try {
        await engineCall(() => client.indices.updateAliases({ body: { actions: [{ add: { index, alias, is_write_index: true } }] } }));
      } catch (err) {
        await client.indices.delete({ index }).catch(() => undefined);
        throw err;
      }
    },

    /** A new, empty concrete index with the current settings and mapping. */
    async createIndex(): Promise<string> {
      const index = `${alias}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
      await engineCall(() => client.indices.create({ index, body: INDEX_BODY }));
      return index;
    },

    /** The concrete indices the alias points at now. */
    async current(): Promise<string[]> {
      try {
        const response = await engineCall(() => client.indices.getAlias({ name: alias }));
        return Object.keys(response.body as Record<string, unknown>);
      } catch (err) {
        if (err instanceof errors.ResponseError && err.statusCode === 404) return [];
        throw err;
      }
    },

    /** Points the alias at `index` and away from the rest in one atomic step, then drops the old ones. */
    async swap(index: string): Promise<string[]> {
      const old = (await this.current()).filter((name) => name !== index);
      await engineCall(() =>
        client.indices.updateAliases({
          body: { actions: [...old.map((name) => ({ remove: { index: name, alias } })), { add: { index, alias, is_write_index: true } }] },
        }),
      );
      if (old.length > 0) await engineCall(() => client.indices.delete({ index: old.join(",") }));
      return old;
    },

    upsert: (product: ProductRecord, index?: string) => mergeInto(product.id, (current) => mergeProduct(current, toDocument(product)), index),

    /** A tombstone at `version`: the product leaves every result, and older events cannot bring it back. */
    remove: (id: string, version: number) => mergeInto(id, (current) => mergeProduct(current, { id, active: false, version })),

    /** The product's availability, unless the index holds a newer level. */
    setStock: (stock: StockLevel, index?: string) => mergeInto(stock.productId, (current) => mergeStock(current, stock), index),

    /** Fills a new index nobody else writes to yet (the reindex's copy): plain writes in one request. */
    async bulkLoad(index: string, documents: ProductDocument[]): Promise<number> {
      if (documents.length === 0) return 0;
      const response = await engineCall(() => client.bulk({ index, body: documents.flatMap((document) => [{ index: { _id: document.id } }, document]) }));
      const failures = (response.body as { items: Array<{ index?: { status: number; error?: { reason?: string } } }> }).items.filter(
        (item) => (item.index?.status ?? 500) >= 300,
      );
      if (failures.length > 0) throw new Error(`bulk index: ${failures.length} failed, first: ${failures[0]!.index?.error?.reason ?? "unknown"}`);
      return documents.length;
    },

    /** Guarded writes of many products (the reindex's catch-up, while the indexer writes too). */
    mergeProducts: (index: string, documents: ProductDocument[]) =>
      mergeAll(documents, (document) => mergeInto(document.id, (current) => mergeProduct(current, document), index)),

    /** Guarded writes of many stock levels (the reindex's catch-up). */
    mergeStockLevels: (index: string, levels: StockLevel[]) =>
      mergeAll(levels, (stock) => mergeInto(stock.productId, (current) => mergeStock(current, stock), index)),

    /** Makes recent writes searchable now (tests and the reindex; the engine does it every second anyway). */
    refresh: (index = alias) => engineCall(() => client.indices.refresh({ index })).then(() => undefined),

    /** The engine answers and the alias exists (the health check). */
    async ping(): Promise<void> {
      const exists = await engineCall(() => client.indices.existsAlias({ name: alias }));
      if (!exists.body) throw new Error(`search index ${alias} does not exist`);
    },
  };
}

export type ProductIndex = ReturnType<typeof createProductIndex>;
