import { v7 as uuidv7 } from "uuid";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { createTestTokens, dropDatabase, grpcClient, testDatabaseName, testLogger } from "@shopmesh/platform/testing";
import { buildCatalog, type CatalogApp } from "../src/app.js";
import { loadCatalogConfig } from "../src/config.js";
import { DEMO_CATEGORIES, demoCatalog } from "../src/seed/demo-catalog.js";
import { seedDemoCatalog } from "../src/seed/seed.js";

const database = testDatabaseName("catalog_seed");
let app: CatalogApp;
let port: number;
let adminToken: string;

beforeAll(async () => {
  const tokens = await createTestTokens();
  adminToken = await tokens.token(uuidv7(), ["customer", "admin"]);
  // The database's search: the seeded products are findable at once (the engine's index follows
  // by events; search.test.ts covers it), and the seed does not share the machine with an indexer.
  const config = loadCatalogConfig({ ...process.env, NODE_ENV: "test", CATALOG_DATABASE: database, SEARCH_ENGINE: "database" });
  app = await buildCatalog(config, testLogger("catalog"), {
    verifier: tokens.verifier,
  });
  port = await app.server.listen(0, "127.0.0.1");
});

afterAll(async () => {
  await app.server.shutdown(1_000);
  for (const closer of app.closers) await closer.close();
  await dropDatabase(database);
});

test("seeding through the RPCs creates the demo categories and products once; a second run creates nothing", async () => {
  const catalog = grpcClient(CatalogService, port);
  const products = demoCatalog().slice(0, 150);
  try {
    const first = await seedDemoCatalog({ catalog, adminToken, products });
    expect(first).toEqual({ categoriesCreated: DEMO_CATEGORIES.length, categoriesExisting: 0, productsCreated: 150, productsExisting: 0, stockSet: undefined });

    const second = await seedDemoCatalog({ catalog, adminToken, products });
    expect(second).toMatchObject({ categoriesCreated: 0, productsCreated: 0, productsExisting: 150 });

    const { categories } = await catalog.listCategories({});
    expect(categories).toHaveLength(DEMO_CATEGORIES.length);
    const found = await catalog.searchProducts({ query: products[0]!.name });
    expect(found.products[0]?.sku).toBe(products[0]!.sku);
  } finally {
    catalog.close();
  }
});
