// The product search index on OpenSearch: what a document holds, how the index is analysed,
// and the writes the indexer and the reindex make. The catalog's database stays the source of
// truth; the index holds only what search needs, and answers with product ids.
import { Client, errors } from "@opensearch-project/opensearch";
import type { Indices_Create_RequestBody } from "@opensearch-project/opensearch/api/index.js";
import { DependencyUnavailableError } from "@shopmesh/platform";
import type { ProductRecord } from "../domain/product.js";

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
}

/** The `brand` attribute is the product's brand (the demo catalog and the admin UI set it). */
export const BRAND_ATTRIBUTE = "brand";

export function toDocument(product: ProductRecord): ProductDocument {
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
  };
}

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
    },
  },
};

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

  /** Writes `document` unless the index already holds this version or a newer one. */
  async function write(document: ProductDocument, index = alias): Promise<WriteOutcome> {
    try {
      // require_alias: with the alias missing, a write must fail, not create an unmapped index.
      await engineCall(() =>
        client.index({ index, id: document.id, body: document, version: document.version, version_type: "external", require_alias: index === alias }),
      );
      return "written";
    } catch (err) {
      // External versioning: the index keeps the highest version, so a late event is refused.
      if (isConflict(err)) return "stale";
      throw err;
    }
  }

  return {
    alias,
    client,

    /** Creates the first concrete index and the alias when there is none (idempotent, race-safe). */
    async ensure(): Promise<void> {
      const exists = await engineCall(() => client.indices.existsAlias({ name: alias }));
      if (exists.body) return;
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

    upsert: (product: ProductRecord, index?: string) => write(toDocument(product), index),

    /** A tombstone at `version`: the product leaves every result, and older events cannot bring it back. */
    remove: (id: string, version: number) => write({ id, active: false, version }),

    /** Many documents in one request (the reindex), each still guarded by its version. */
    async bulkWrite(index: string, documents: ProductDocument[]): Promise<{ written: number; stale: number }> {
      if (documents.length === 0) return { written: 0, stale: 0 };
      const body = documents.flatMap((document) => [
        { index: { _index: index, _id: document.id, version: document.version, version_type: "external" } },
        document,
      ]);
      const response = await engineCall(() => client.bulk({ body }));
      let written = 0;
      let stale = 0;
      const failures: string[] = [];
      for (const item of (response.body as { items: Array<{ index?: { status: number; error?: { reason?: string } } }> }).items) {
        const status = item.index?.status ?? 500;
        if (status === 409) stale++;
        else if (status < 300) written++;
        else failures.push(item.index?.error?.reason ?? `status ${status}`);
      }
      if (failures.length > 0) throw new Error(`bulk index: ${failures.length} failed, first: ${failures[0]}`);
      return { written, stale };
    },

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
