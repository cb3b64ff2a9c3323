// The search indexer: keeps the product index in step with the catalog by consuming the
// catalog's own product events through the platform's idempotent consumer. Each write is
// guarded by the product's version, so redeliveries and late, older events change nothing.
import { ProductCreatedSchema, ProductDeletedSchema, ProductUpdatedSchema } from "@shopmesh/gen/shopmesh/events/v1/catalog_events_pb.js";
import type { Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { type Logger } from "@shopmesh/platform";
import { onExternal, PoisonEventError, type EventHandler } from "@shopmesh/platform/data";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ProductRecord } from "../domain/product.js";
import type { ProductIndex, WriteOutcome } from "./product-index.js";

function toRecord(product: Product | undefined): ProductRecord {
  if (!product?.id || !product.price) throw new PoisonEventError("product event without a product snapshot");
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    description: product.description,
    categoryId: product.categoryId,
    priceMinor: product.price.amountMinor,
    currency: product.price.currency,
    attributes: { ...product.attributes },
    imageUrl: product.imageUrl,
    active: product.active,
    createdAt: product.createTime ? timestampDate(product.createTime) : new Date(0),
    updatedAt: product.updateTime ? timestampDate(product.updateTime) : new Date(0),
    version: Number(product.version),
  };
}

export interface IndexerOptions {
  /** Creates the index and its alias when missing (the engine may have been away at start); cheap to call again (see onceReady). */
  ensureIndex: () => Promise<void>;
  onWrite?: (outcome: WriteOutcome) => void;
}

/** `ensure` run once when it succeeds, and again on the next call when it failed. */
export function onceReady(ensure: () => Promise<void>): () => Promise<void> {
  let ensured: Promise<void> | undefined;
  return () =>
    (ensured ??= ensure().catch((err: unknown) => {
      ensured = undefined;
      throw err;
    }));
}

export function searchIndexerHandlers(index: ProductIndex, logger: Logger, options: IndexerOptions): EventHandler[] {
  const indexReady = options.ensureIndex;
  const report = (productId: string, outcome: WriteOutcome) => {
    if (outcome === "stale") logger.debug({ product_id: productId }, "search index already holds a newer version; event ignored");
    options.onWrite?.(outcome);
  };
  const upsert = async (product: Product | undefined) => {
    const record = toRecord(product);
    await indexReady();
    // A deactivated product (UpdateProduct active=false) leaves the results like a deleted one.
    report(record.id, record.active ? await index.upsert(record) : await index.remove(record.id, record.version));
  };
  return [
    onExternal(ProductCreatedSchema, (event) => upsert(event.product)),
    onExternal(ProductUpdatedSchema, (event) => upsert(event.product)),
    onExternal(ProductDeletedSchema, async (event) => {
      await indexReady();
      report(event.productId, await index.remove(event.productId, Number(event.version)));
    }),
  ];
}
