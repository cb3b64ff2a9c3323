// Search on the real OpenSearch the infra scripts start, fed by the catalog's real product
// events through Kafka: typo tolerance, facets, filters, sort, pagination, suggestions, the
// version guard, deletes, a reindex under concurrent searches, and the database fallback
// while the engine is unreachable (Toxiproxy between the catalog and OpenSearch).
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { StockChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { v7 as uuidv7 } from "uuid";
import { CatalogService, SearchOrderBy, type Product, type SearchProductsRequest } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { createMysqlPool, type Pool } from "@shopmesh/platform/data";
import {
  connectClient,
  createEventPublisher,
  createProxy,
  createTestTokens,
  currentTestNamespace,
  dropDatabase,
  eventProcessed,
  eventually,
  TEST_MYSQL,
  testDatabaseName,
  testLogger,
  type Proxy,
} from "@shopmesh/platform/testing";
import { topology } from "@shopmesh/platform/topology";
import { buildCatalog, type CatalogApp } from "../src/app.js";
import { loadCatalogConfig } from "../src/config.js";
import { createProductIndex, createSearchClient } from "../src/search/product-index.js";
import { reindexProducts } from "../src/search/reindex.js";
import { createProductStore } from "../src/store/products.js";
import { createStockStore } from "../src/store/stock.js";

const database = testDatabaseName("catalog_search");
const OPENSEARCH = process.env["OPENSEARCH_URL"] ?? `http://127.0.0.1:${topology.infrastructure.opensearch.port}`;
/** A word only this file's products carry, so every search sees exactly them. */
const RUN = `zq${Math.random().toString(36).slice(2, 8)}`;
const logger = testLogger("catalog-search");
let app: CatalogApp;
let port: number;
let adminToken: string;
let engineLink: Proxy;
const searchClient = createSearchClient(OPENSEARCH);
const index = () => createProductIndex(searchClient, currentTestNamespace().searchIndexPrefix);

const anonymous = () => connectClient(CatalogService, port);
const asAdmin = () => connectClient(CatalogService, port, { token: adminToken });
const search = (request: Partial<Omit<SearchProductsRequest, "$typeName">> = {}) => anonymous().searchProducts({ query: RUN, ...request });
let pool: Pool;

const products: Record<string, Product> = {};
let lamps: string;
let chairs: string;

async function addProduct(key: string, categoryId: string, name: string, brand: string, amountMinor: bigint, description = "") {
  const { product } = await asAdmin().createProduct({
    product: {
      sku: `${key.toUpperCase()}-${RUN.toUpperCase()}`,
      name: `${name} ${RUN}`,
      description: description || `A ${name.toLowerCase()} from ${brand}.`,
      categoryId,
      price: { currency: "EUR", amountMinor },
      attributes: { brand },
    },
  });
  products[key] = product!;
}

/** Waits until the engine (not the fallback) answers `request` with `count` products. */
async function searchable(request: Parameters<typeof search>[0], count: number) {
  return eventually(
    async () => {
      const result = await search(request);
      return !result.degraded && result.products.length === count ? result : undefined;
    },
    {
      timeoutMs: 30_000,
      what: `${count} indexed results for ${JSON.stringify(request, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))}`,
    },
  );
}

beforeAll(async () => {
  const tokens = await createTestTokens();
  adminToken = await tokens.token(uuidv7(), ["customer", "admin"]);
  engineLink = await createProxy("opensearch", new URL(OPENSEARCH).host);
  const config = loadCatalogConfig({
    ...process.env,
    NODE_ENV: "test",
    CATALOG_DATABASE: database,
    KAFKA_CONSUMER_START: "end",
    OPENSEARCH_URL: `http://127.0.0.1:${engineLink.port}`,
    // Generous: a slow answer under a loaded CI box must not read as an outage (the outage test cuts the link, which fails fast).
    SEARCH_TIMEOUT_MS: "3000",
  });
  app = await buildCatalog(config, logger, { verifier: tokens.verifier });
  port = await app.server.listen(0, "127.0.0.1");
  pool = await createMysqlPool({ ...TEST_MYSQL, database, poolSize: 2 });
  const admin = asAdmin();
  lamps = (await admin.createCategory({ category: { slug: `lamps-${RUN}`, name: "Lamps" } })).category!.id;
  chairs = (await admin.createCategory({ category: { slug: `chairs-${RUN}`, name: "Chairs" } })).category!.id;
  await addProduct("premium", lamps, "Premium Walnut Desk Lamp", "Lumen", 8_999n, "Warm light for late reading, solid walnut base.");
  await addProduct("budget", lamps, "Budget Floor Lamp", "Lumen", 1_999n);
  await addProduct("arc", lamps, "Brass Arc Lamp", "Orbis", 14_999n);
  await addProduct("office", chairs, "Ergonomic Office Chair", "Orbis", 24_999n);
  await addProduct("stool", chairs, "Oak Bar Stool", "Forma", 4_999n);
  await searchable({}, 5);
}, 120_000);

afterAll(async () => {
  await app?.server.shutdown(1_000);
  for (const closer of app?.closers ?? []) await closer.close();
  await engineLink?.remove();
  await searchClient.close();
  await pool?.end();
  await dropDatabase(database);
});

test("a misspelt query finds the product (typo tolerance), and the name outranks the description", async () => {
  const result = await search({ query: `premiun lamp ${RUN}` });
  expect(result.degraded).toBe(false);
  expect(result.products[0]!.id).toBe(products["premium"]!.id);
  // "walnut" is in the premium lamp's name and description; a product with it only in the
  // description would rank lower: the name's boost shows in the score order.
  const walnut = await search({ query: `walnut ${RUN}` });
  expect(walnut.products.map((product) => product.id)).toEqual([products["premium"]!.id]);
});

test("facets count every match; a facet ignores its own filter, so the shopper sees the alternatives", async () => {
  const all = await search({});
  const facet = (result: typeof all, field: string) =>
    Object.fromEntries(result.facets.find((candidate) => candidate.field === field)!.values.map((value) => [value.value, Number(value.count)]));
  expect(facet(all, "category_id")).toEqual({ [lamps]: 3, [chairs]: 2 });
  expect(facet(all, "brand")).toEqual({ Lumen: 2, Orbis: 2, Forma: 1 });
  expect(facet(all, "price")).toEqual({ "0-2500": 1, "2500-5000": 1, "5000-10000": 1, "10000-25000": 2 });

  const orbis = await search({ brands: ["Orbis"] });
  expect(orbis.products.map((product) => product.id).sort()).toEqual([products["arc"]!.id, products["office"]!.id].sort());
  // Brand counts are unchanged by the brand filter; the category counts follow it.
  expect(facet(orbis, "brand")).toEqual({ Lumen: 2, Orbis: 2, Forma: 1 });
  expect(facet(orbis, "category_id")).toEqual({ [lamps]: 1, [chairs]: 1 });
});

test("filters combine: category, brand and a price range", async () => {
  const cheapLamps = await search({ categoryId: lamps, maxPriceMinor: 10_000n });
  expect(cheapLamps.products.map((product) => product.id).sort()).toEqual([products["premium"]!.id, products["budget"]!.id].sort());
  const midRange = await search({ minPriceMinor: 4_999n, maxPriceMinor: 14_999n, brands: ["Orbis", "Forma"] });
  expect(midRange.products.map((product) => product.id).sort()).toEqual([products["arc"]!.id, products["stool"]!.id].sort());
  // A range upside down is refused at the contract, before any search runs.
  await expect(search({ minPriceMinor: 5_000n, maxPriceMinor: 100n })).rejects.toMatchObject({ code: Code.InvalidArgument });
});

test("sort by price both ways and by newest", async () => {
  const prices = (result: Awaited<ReturnType<typeof search>>) => result.products.map((product) => Number(product.price!.amountMinor));
  expect(prices(await search({ orderBy: SearchOrderBy.PRICE_ASC }))).toEqual([1_999, 4_999, 8_999, 14_999, 24_999]);
  expect(prices(await search({ orderBy: SearchOrderBy.PRICE_DESC }))).toEqual([24_999, 14_999, 8_999, 4_999, 1_999]);
  const newest = await search({ orderBy: SearchOrderBy.NEWEST });
  expect(newest.products[0]!.id).toBe(products["stool"]!.id);
});

test("pages of two cover every match exactly once, and a token only continues its own search", async () => {
  const seen: string[] = [];
  let pageToken = "";
  do {
    const page = await search({ pageSize: 2, pageToken, orderBy: SearchOrderBy.PRICE_ASC });
    seen.push(...page.products.map((product) => product.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  expect(seen).toHaveLength(5);
  expect(new Set(seen).size).toBe(5);
  const first = await search({ pageSize: 2 });
  await expect(search({ pageSize: 2, pageToken: first.nextPageToken, brands: ["Lumen"] })).rejects.toMatchObject({ code: Code.InvalidArgument });
});

test("suggestions complete the words typed so far; an empty result offers a corrected query", async () => {
  const { suggestions } = await anonymous().suggestProducts({ prefix: `ergo` });
  expect(suggestions.map((suggestion) => suggestion.productId)).toContain(products["office"]!.id);
  const none = await search({ query: `lmpa ${RUN}` });
  expect(none.products).toEqual([]);
  expect(none.suggestedQuery).toBe(`lamp ${RUN}`);
});

test("hostile input stays plain text: query syntax, a 200-character query and emoji are answered, not parsed", async () => {
  for (const query of [`name:* OR ${RUN}`, `"${RUN}`, `(${RUN} AND`, `${RUN} \\ / [ ] { } ~ ^`, "🔥💡".repeat(50), "a".repeat(200)]) {
    const result = await search({ query });
    expect(result.degraded).toBe(false);
  }
});

test("a late, older event never overwrites a newer version; a deleted product leaves the results", async () => {
  const admin = asAdmin();
  const mask = create(FieldMaskSchema, { paths: ["name"] });
  await admin.updateProduct({ product: { id: products["budget"]!.id, name: `Budget Reading Lamp ${RUN}` }, updateMask: mask });
  await searchable({ query: `reading ${RUN}`, categoryId: lamps, brands: ["Lumen"], maxPriceMinor: 2_000n }, 1);
  // The first version's document arriving now (a redelivered ProductCreated) is refused by the guard.
  const store = createProductStore(pool);
  const current = (await store.findById(products["budget"]!.id))!;
  expect(current.version).toBe(2);
  expect(await index().upsert({ ...current, name: `Budget Floor Lamp ${RUN}`, version: 1 })).toBe("stale");
  await index().refresh();
  expect((await search({ query: `reading ${RUN}` })).products.map((product) => product.id)).toEqual([products["budget"]!.id]);

  await admin.deleteProduct({ productId: products["stool"]!.id });
  await searchable({}, 4);
  // A late ProductUpdated from before the delete cannot bring it back.
  const deleted = (await store.findById(products["stool"]!.id))!;
  expect(await index().upsert({ ...deleted, active: true, version: deleted.version - 1 })).toBe("stale");
});

test("in stock follows inventory's StockChanged events: the newest level wins in the index and in the database's read model", async () => {
  const events = await createEventPublisher("/shopmesh/inventory");
  const at = Date.now();
  const level = (key: string, available: number, ms: number) =>
    create(StockChangedSchema, { productId: products[key]!.id, available, onHand: available, occurredTime: timestampFromMs(ms), reason: "set" });
  const publish = (key: string, available: number, ms: number) =>
    events.publish(TOPICS.inventory, StockChangedSchema, products[key]!.id, level(key, available, ms));
  try {
    const sent = [
      await publish("premium", 3, at),
      await publish("arc", 5, at),
      await publish("budget", 2, at),
      // The budget lamp sells out; an older level of the arc lamp arrives late and changes nothing.
      await publish("budget", 0, at + 1_000),
      await publish("arc", 0, at - 1_000),
    ];
    // Delivered again, the same event is not applied twice (nor would it change anything).
    sent.push(await events.publish(TOPICS.inventory, StockChangedSchema, products["arc"]!.id, level("arc", 0, at - 1_000), sent[4]));
    for (const id of sent) await eventProcessed(database, id);
  } finally {
    await events.close();
  }
  await index().refresh();
  const inStock = [products["premium"]!.id, products["arc"]!.id].sort();
  const result = await search({ inStock: true });
  expect(result.degraded).toBe(false);
  expect(result.products.map((product) => product.id).sort()).toEqual(inStock);
  // The facets count what is in stock, the brands of the two lamps left.
  expect(result.facets.find((facet) => facet.field === "brand")?.values.map((value) => [value.value, value.count])).toEqual([
    ["Lumen", 1n],
    ["Orbis", 1n],
  ]);
  // The database fallback reads the same levels from the catalog's read model.
  const fromDatabase = await createProductStore(pool).search({
    against: RUN,
    mode: "natural",
    categoryId: "",
    brands: [],
    minPriceMinor: 0n,
    maxPriceMinor: 0n,
    inStock: true,
    order: "relevance",
    offset: 0,
    limit: 10,
  });
  expect(fromDatabase.map((hit) => hit.product.id).sort()).toEqual(inStock);
});

test("a stock level that arrives before its product is kept, and later product versions keep it", async () => {
  const store = createProductStore(pool);
  const product = { ...(await store.findById(products["office"]!.id))!, id: uuidv7(), version: 1 };
  const writes = index();
  expect(await writes.setStock({ productId: product.id, available: 4, changedAt: new Date(2_000) })).toBe("written");
  expect(await writes.setStock({ productId: product.id, available: 0, changedAt: new Date(1_000) })).toBe("stale");
  expect(await writes.upsert(product)).toBe("written");
  expect(await writes.upsert({ ...product, name: `Renamed ${RUN}`, version: 2 })).toBe("written");
  const document = await searchClient.get({ index: writes.alias, id: product.id });
  expect(document.body._source).toMatchObject({ name: `Renamed ${RUN}`, version: 2, active: true, in_stock: true, stock_changed_ms: 2_000 });
  expect(await writes.remove(product.id, 3)).toBe("written");
});

test("a reindex builds a new index and swaps the alias while searches keep being answered", async () => {
  const before = await index().current();
  let searching = true;
  const answers: number[] = [];
  const failures: unknown[] = [];
  const load = (async () => {
    while (searching) {
      await search({})
        .then((result) => answers.push(result.degraded ? -1 : result.products.length))
        .catch((err: unknown) => failures.push(err));
    }
  })();
  try {
    const report = await reindexProducts({ pool, products: createProductStore(pool), stock: createStockStore(pool), index: index(), logger });
    expect(report.replaced).toEqual(before);
    expect(report.documents).toBeGreaterThanOrEqual(5);
  } finally {
    searching = false;
    await load;
  }
  expect(failures).toEqual([]);
  // Every answer during the swap had all four live products, none from the fallback.
  expect(answers.length).toBeGreaterThan(0);
  expect(new Set(answers)).toEqual(new Set([4]));
  expect(await index().current()).not.toEqual(before);
  // The stock levels came along from the read model.
  expect((await search({ inStock: true })).products).toHaveLength(2);
});

test("with the engine unreachable, search answers from the database (degraded) and health says degraded; it recovers by itself", async () => {
  await engineLink.cut();
  try {
    const result = await search({ query: `premium ${RUN}` });
    expect(result.degraded).toBe(true);
    expect(result.facets).toEqual([]);
    // FULLTEXT's natural language mode ranks (any word may match), best first.
    expect(result.products[0]!.id).toBe(products["premium"]!.id);
    expect((await anonymous().suggestProducts({ prefix: "ergo" })).suggestions).toEqual([]);
    expect((await search({ inStock: true })).products.map((product) => product.id).sort()).toEqual([products["premium"]!.id, products["arc"]!.id].sort());
    // Still ready (the database answers searches), but degraded, naming the engine.
    const readyz = async () => fetch(`http://127.0.0.1:${port}/readyz`).then(async (response) => `${response.status} ${await response.text()}`);
    await eventually(async () => ((await readyz()).includes("opensearch") ? true : undefined), { timeoutMs: 20_000, what: "health degraded" });
    expect(await readyz()).toMatch(/^200 ready \(degraded: .*opensearch/);
  } finally {
    await engineLink.heal();
  }
  // The breaker lets a probe through after 5 s; then the engine answers again.
  await searchable({ query: `premium ${RUN}` }, 1);
}, 60_000);

test("an unknown brand or empty words are answered plainly, not as errors", async () => {
  expect((await search({ brands: ["Nobody"] })).products).toEqual([]);
  const error = await search({ query: "   " }).catch((err: unknown) => ConnectError.from(err));
  expect(error).toBeInstanceOf(ConnectError);
  expect((error as ConnectError).code).toBe(Code.InvalidArgument);
});
