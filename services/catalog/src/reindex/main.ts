/**
 * Rebuilds the product search index from the catalog's database with zero downtime (a new
 * index, then an atomic alias swap): `npm run reindex`.
 * Env: the catalog's own (MYSQL_*, CATALOG_DATABASE, OPENSEARCH_URL, SEARCH_INDEX_PREFIX).
 */
import { createLogger, runMain } from "@shopmesh/platform";
import { createMysqlPool } from "@shopmesh/platform/data";
import { loadCatalogConfig } from "../config.js";
import { reindexProducts } from "../search/reindex.js";
import { createProductIndex, createSearchClient } from "../search/product-index.js";
import { createProductStore } from "../store/products.js";
import { createStockStore } from "../store/stock.js";

runMain(async () => {
  const started = performance.now();
  const config = loadCatalogConfig();
  const logger = createLogger({ service: "catalog-reindex", level: config.LOG_LEVEL });
  const pool = await createMysqlPool({
    host: config.MYSQL_HOST,
    port: config.MYSQL_PORT,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.CATALOG_DATABASE,
    poolSize: 2,
  });
  // Bulk pages of 500 take longer than a single search may.
  const client = createSearchClient(config.OPENSEARCH_URL, 60_000);
  try {
    const report = await reindexProducts({
      pool,
      products: createProductStore(pool),
      stock: createStockStore(pool),
      index: createProductIndex(client, config.SEARCH_INDEX_PREFIX),
      logger,
    });
    process.stdout.write(
      `reindex: ${report.documents} products into ${report.index}, ${report.caughtUp} caught up after the swap, replaced ${report.replaced.join(", ") || "nothing"}, ${Math.round(performance.now() - started)} ms\n`,
    );
  } finally {
    await client.close();
    await pool.end();
  }
});
