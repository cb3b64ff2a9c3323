// Rebuilds the product index from the catalog's database with no downtime: a new concrete
// index is filled while searches and the indexer keep using the old one through the alias,
// the alias is swapped in one atomic step, and the products and stock levels that changed
// meanwhile are written again (each write is guarded, so nothing newer is overwritten).
import type { Logger } from "@shopmesh/platform";
import type { Pool, RowDataPacket } from "@shopmesh/platform/data";
import { toDocument, type ProductDocument, type ProductIndex } from "./product-index.js";
import type { ProductStore } from "../store/products.js";
import type { StockStore } from "../store/stock.js";

const BATCH = 500;

export interface ReindexReport {
  index: string;
  replaced: string[];
  documents: number;
  caughtUp: number;
  stockCaughtUp: number;
}

/** Every product (deleted ones as tombstones) from `since` on, in pages, as index documents. */
async function* productDocuments(pool: Pool, products: ProductStore, stock: StockStore, since?: Date): AsyncGenerator<ProductDocument[]> {
  let after = "";
  for (;;) {
    const [rows] = await pool.query<Array<{ id: string } & RowDataPacket>>(
      `SELECT id FROM products WHERE id > ? ${since ? "AND updated_at >= ?" : ""} ORDER BY id LIMIT ?`,
      since ? [after, since, BATCH] : [after, BATCH],
    );
    if (rows.length === 0) return;
    const ids = rows.map((row) => row.id);
    const [records, levels] = await Promise.all([products.findByIds(ids), stock.findByIds(ids)]);
    yield records.map((record) => (record.active ? toDocument(record, levels.get(record.id)) : { id: record.id, active: false, version: record.version }));
    after = rows.at(-1)!.id;
  }
}

export async function reindexProducts(options: {
  pool: Pool;
  products: ProductStore;
  stock: StockStore;
  index: ProductIndex;
  logger: Logger;
}): Promise<ReindexReport> {
  const { pool, products, stock, index, logger } = options;
  // A little before now: a write that commits while the copy runs is caught up afterwards.
  const started = new Date(Date.now() - 5_000);
  const target = await index.createIndex();
  let documents = 0;
  for await (const page of productDocuments(pool, products, stock)) {
    documents += await index.bulkLoad(target, page);
  }
  await index.refresh(target);
  const replaced = await index.swap(target);
  // Events written to the old index during the copy went nowhere useful: write those products again.
  let caughtUp = 0;
  for await (const page of productDocuments(pool, products, stock, started)) {
    caughtUp += (await index.mergeProducts(target, page)).written;
  }
  let stockCaughtUp = 0;
  for (let after = ""; ;) {
    const levels = await stock.changedSince(started, after, BATCH);
    if (levels.length === 0) break;
    stockCaughtUp += (await index.mergeStockLevels(target, levels)).written;
    after = levels.at(-1)!.productId;
  }
  await index.refresh(target);
  logger.info({ index: target, replaced, documents, caught_up: caughtUp, stock_caught_up: stockCaughtUp }, "search index rebuilt");
  return { index: target, replaced, documents, caughtUp, stockCaughtUp };
}
