import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { v7 as uuidv7 } from "uuid";
import { CatalogService, ProductOrderBy, type Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { ProductUpdatedSchema } from "@shopmesh/gen/shopmesh/events/v1/catalog_events_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { decodeEvent, headerString } from "@shopmesh/platform/data";
import {
  connectClient,
  createTestTokens,
  dropDatabase,
  eventually,
  grpcClient,
  testDatabaseName,
  testGroupId,
  testKafka,
  testLogger,
  expectCode,
} from "@shopmesh/platform/testing";
import { buildCatalog, type CatalogApp } from "../src/app.js";
import { loadCatalogConfig } from "../src/config.js";
import type { ProductStore } from "../src/store/products.js";

const database = testDatabaseName("catalog");
let app: CatalogApp;
let port: number;
let tokens: Awaited<ReturnType<typeof createTestTokens>>;
let adminToken: string;
let customerToken: string;
/** Product reads that reached MySQL, counted by a wrapper around the real store. */
const productQueries = { findById: 0, findByIds: 0, list: 0 };

// The database's own search (FULLTEXT): what answers when the engine is away. The engine has
// its own tests (search.test.ts).
const config = (overrides: Record<string, string> = {}) =>
  loadCatalogConfig({ ...process.env, NODE_ENV: "test", CATALOG_DATABASE: database, SEARCH_ENGINE: "database", ...overrides });

function countingStore(store: ProductStore): ProductStore {
  return {
    ...store,
    findById: (id) => (productQueries.findById++, store.findById(id)),
    findByIds: (ids) => (productQueries.findByIds++, store.findByIds(ids)),
    list: (query) => (productQueries.list++, store.list(query)),
  };
}

const anonymous = () => connectClient(CatalogService, port);
const asAdmin = () => connectClient(CatalogService, port, { token: adminToken });
const asCustomer = () => connectClient(CatalogService, port, { token: customerToken });

let skuCounter = 0;
const uniqueSku = (prefix = "SKU") => `${prefix}-${Date.now().toString(36).toUpperCase()}-${++skuCounter}`;

async function buildCategory(overrides: Partial<{ slug: string; name: string }> = {}) {
  const suffix = Math.random().toString(36).slice(2, 8);
  const { category } = await asAdmin().createCategory({ category: { slug: `cat-${suffix}`, name: `Category ${suffix}`, ...overrides } });
  return category!;
}

async function buildProduct(
  categoryId: string,
  overrides: Partial<{ sku: string; name: string; description: string; amountMinor: bigint; attributes: Record<string, string> }> = {},
): Promise<Product> {
  const { product } = await asAdmin().createProduct({
    product: {
      sku: overrides.sku ?? uniqueSku(),
      name: overrides.name ?? "Walnut desk lamp",
      description: overrides.description ?? "A warm lamp for late reading.",
      categoryId,
      price: { currency: "EUR", amountMinor: overrides.amountMinor ?? 4999n },
      attributes: overrides.attributes ?? { color: "walnut" },
      imageUrl: "https://picsum.photos/seed/lamp/400/400",
    },
  });
  return product!;
}

const mask = (...paths: string[]) => create(FieldMaskSchema, { paths });

function cacheCount(result: "hit" | "miss" | "error", cache: "product" | "list", target: CatalogApp = app): Promise<number> {
  return target.server.metrics.registry
    .getSingleMetric("shopmesh_cache_requests_total")!
    .get()
    .then((metric) =>
      metric.values.filter((value) => value.labels["result"] === result && value.labels["cache"] === cache).reduce((sum, value) => sum + value.value, 0),
    );
}

beforeAll(async () => {
  tokens = await createTestTokens();
  adminToken = await tokens.token(uuidv7(), ["customer", "admin"]);
  customerToken = await tokens.token(uuidv7(), ["customer"]);
  app = await buildCatalog(config(), testLogger("catalog"), { verifier: tokens.verifier, decorateProducts: countingStore });
  port = await app.server.listen(0, "127.0.0.1");
});

afterAll(async () => {
  await app.server.shutdown(1_000);
  for (const closer of app.closers) await closer.close();
  await dropDatabase(database);
});

describe("products and categories (CRUD)", () => {
  test("an admin creates a category and a product; anyone can read the product back", async () => {
    const category = await buildCategory({ name: "Lighting" });
    const created = await buildProduct(category.id, { attributes: { color: "walnut", bulb: "E27" } });

    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.active).toBe(true);
    expect(created.createTime).toBeDefined();
    const { product } = await anonymous().getProduct({ productId: created.id });
    expect(product).toMatchObject({ sku: created.sku, name: "Walnut desk lamp", categoryId: category.id, attributes: { color: "walnut", bulb: "E27" } });
    expect(product?.price).toMatchObject({ currency: "EUR", amountMinor: 4999n });
    const { categories } = await anonymous().listCategories({});
    expect(categories.map((c) => c.id)).toContain(category.id);
  });

  test("when a customer tries to create a product, then PERMISSION_DENIED; without a token, UNAUTHENTICATED", async () => {
    const category = await buildCategory();
    const product = { sku: uniqueSku(), name: "Sneaky", categoryId: category.id, price: { currency: "EUR", amountMinor: 1n } };
    await expectCode(asCustomer().createProduct({ product }), Code.PermissionDenied);
    await expectCode(anonymous().createProduct({ product }), Code.Unauthenticated);
  });

  test("when the sku is taken, then ALREADY_EXISTS; when the category is unknown, then FAILED_PRECONDITION; when the price is missing, then INVALID_ARGUMENT", async () => {
    const category = await buildCategory();
    const existing = await buildProduct(category.id);
    await expectCode(buildProduct(category.id, { sku: existing.sku }), Code.AlreadyExists);
    await expectCode(buildProduct(uuidv7()), Code.FailedPrecondition);
    const error = await expectCode(asAdmin().createProduct({ product: { sku: uniqueSku(), name: "No price", categoryId: category.id } }), Code.InvalidArgument);
    expect(error.rawMessage).toContain("price");
  });

  test("when a category slug is taken, then ALREADY_EXISTS", async () => {
    const category = await buildCategory();
    await expectCode(buildCategory({ slug: category.slug }), Code.AlreadyExists);
  });

  test("when an update names only `name`, then the price and description in the request are ignored", async () => {
    const category = await buildCategory();
    const product = await buildProduct(category.id, { amountMinor: 1000n, description: "original" });
    const { product: updated } = await asAdmin().updateProduct({
      product: { id: product.id, name: "Brass desk lamp", description: "changed", price: { currency: "USD", amountMinor: 1n } },
      updateMask: mask("name"),
    });

    expect(updated).toMatchObject({ name: "Brass desk lamp", description: "original", sku: product.sku });
    expect(updated?.price).toMatchObject({ currency: "EUR", amountMinor: 1000n });
    const { product: reread } = await anonymous().getProduct({ productId: product.id });
    expect(reread?.price?.amountMinor).toBe(1000n);
    expect(reread?.description).toBe("original");
    expect(reread?.name).toBe("Brass desk lamp");
  });

  test("when a customer tries to change a price, then PERMISSION_DENIED and the price stays", async () => {
    const category = await buildCategory();
    const product = await buildProduct(category.id, { amountMinor: 2500n });
    await expectCode(
      asCustomer().updateProduct({ product: { id: product.id, price: { currency: "EUR", amountMinor: 1n } }, updateMask: mask("price") }),
      Code.PermissionDenied,
    );
    const { product: reread } = await anonymous().getProduct({ productId: product.id });
    expect(reread?.price?.amountMinor).toBe(2500n);
  });

  test.each([["create_time"], ["id"], ["price.amount_minor"], ["no_such_field"]])(
    "when the mask names %s (output-only or unknown), then INVALID_ARGUMENT",
    async (path) => {
      const category = await buildCategory();
      const product = await buildProduct(category.id);
      await expectCode(asAdmin().updateProduct({ product: { id: product.id, name: "x" }, updateMask: mask(path) }), Code.InvalidArgument);
    },
  );

  test("when the product does not exist, then update and get say NOT_FOUND", async () => {
    const id = uuidv7();
    await expectCode(asAdmin().updateProduct({ product: { id, name: "Ghost" }, updateMask: mask("name") }), Code.NotFound);
    await expectCode(anonymous().getProduct({ productId: id }), Code.NotFound);
  });

  test("a deleted product is hidden from the public but kept for batch reads and admins; deleting twice is fine", async () => {
    const category = await buildCategory();
    const product = await buildProduct(category.id);
    await anonymous().getProduct({ productId: product.id });

    const { product: deleted } = await asAdmin().deleteProduct({ productId: product.id });
    expect(deleted?.active).toBe(false);
    await asAdmin().deleteProduct({ productId: product.id });

    await expectCode(anonymous().getProduct({ productId: product.id }), Code.NotFound);
    expect((await asAdmin().getProduct({ productId: product.id })).product?.active).toBe(false);
    const unknown = uuidv7();
    const batch = await anonymous().batchGetProducts({ ids: [unknown, product.id] });
    expect(batch.products.map((p) => [p.id, p.active])).toEqual([[product.id, false]]);
    expect(batch.missingIds).toEqual([unknown]);
    const listed = await anonymous().listProducts({ categoryId: category.id });
    expect(listed.products).toHaveLength(0);
    const withInactive = await asAdmin().listProducts({ categoryId: category.id, includeInactive: true });
    expect(withInactive.products.map((p) => p.id)).toEqual([product.id]);
    await expectCode(asCustomer().listProducts({ categoryId: category.id, includeInactive: true }), Code.PermissionDenied);
  });
});

describe("ListProducts paging", () => {
  let categoryId: string;
  const prices = [
    500n,
    1500n,
    1500n,
    1500n,
    999n,
    2000n,
    500n,
    750n,
    3000n,
    1500n,
    120n,
    4500n,
    999n,
    60n,
    1500n,
    2200n,
    80n,
    999n,
    10000n,
    1n,
    1500n,
    700n,
    1500n,
  ];

  beforeAll(async () => {
    categoryId = (await buildCategory()).id;
    // Sequential so creation times (and thus "newest") are well defined; names repeat on purpose.
    for (const [index, amountMinor] of prices.entries()) {
      await buildProduct(categoryId, { amountMinor, name: `Item ${String.fromCharCode(65 + (index % 7))}` });
    }
  });

  async function allPages(orderBy: ProductOrderBy, pageSize: number): Promise<Product[]> {
    const seen: Product[] = [];
    let pageToken = "";
    for (let pages = 0; pages < 50; pages++) {
      const page = await anonymous().listProducts({ categoryId, orderBy, pageSize, pageToken });
      expect(page.products.length).toBeLessThanOrEqual(pageSize);
      seen.push(...page.products);
      if (!page.nextPageToken) return seen;
      pageToken = page.nextPageToken;
    }
    throw new Error("paging did not end");
  }

  const byPrice = (direction: 1 | -1) => (a: Product, b: Product) =>
    direction * (Number(a.price!.amountMinor - b.price!.amountMinor) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  test.each([
    ["price ascending", ProductOrderBy.PRICE_ASC, byPrice(1)],
    ["price descending", ProductOrderBy.PRICE_DESC, byPrice(-1)],
    ["name", ProductOrderBy.NAME, (a: Product, b: Product) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1)],
    ["newest", ProductOrderBy.NEWEST, (a: Product, b: Product) => (a.id < b.id ? 1 : -1)],
  ])("when paging by %s, then every product appears exactly once in a stable order", async (_name, orderBy, compare) => {
    const products = await allPages(orderBy, 4);
    const ids = products.map((p) => p.id);
    expect(new Set(ids).size).toBe(prices.length);
    expect(ids).toEqual([...products].sort(compare).map((p) => p.id));
    // The same walk again gives the same sequence.
    expect((await allPages(orderBy, 4)).map((p) => p.id)).toEqual(ids);
  });

  test("when page_token is garbage or belongs to another order, then INVALID_ARGUMENT", async () => {
    await expectCode(anonymous().listProducts({ categoryId, pageToken: "not-a-token" }), Code.InvalidArgument);
    const first = await anonymous().listProducts({ categoryId, orderBy: ProductOrderBy.PRICE_ASC, pageSize: 2 });
    await expectCode(anonymous().listProducts({ categoryId, orderBy: ProductOrderBy.NAME, pageSize: 2, pageToken: first.nextPageToken }), Code.InvalidArgument);
    // A token is opaque, not signed: an edited position must still be refused, not reach SQL.
    const issued = JSON.parse(Buffer.from(first.nextPageToken, "base64url").toString("utf8")) as { p: { key: string } };
    const tampered = Buffer.from(JSON.stringify({ ...issued, p: { ...issued.p, key: "1 OR 1=1" } })).toString("base64url");
    await expectCode(anonymous().listProducts({ categoryId, orderBy: ProductOrderBy.PRICE_ASC, pageToken: tampered }), Code.InvalidArgument);
  });
});

describe("SearchProducts on the database (no search engine)", () => {
  let categoryId: string;
  beforeAll(async () => {
    categoryId = (await buildCategory()).id;
    await buildProduct(categoryId, { name: "Trailblazer trail running shoe", description: "Grippy trail running shoe for muddy mountain trail runs." });
    await buildProduct(categoryId, { name: "Merino running socks", description: "Soft socks for road running." });
    await buildProduct(categoryId, { name: "Ergonomic office chair", description: "Mesh back, adjustable armrests." });
    await buildProduct(categoryId, { name: "Canvas tote bag", description: "Carries shoes to the gym." });
  });

  test("when searching for words of one product, then it comes first and scores descend", async () => {
    const result = await anonymous().searchProducts({ query: "trail running shoe", categoryId });
    expect(result.products[0]?.name).toBe("Trailblazer trail running shoe");
    expect(result.products.map((p) => p.name)).toContain("Merino running socks");
    expect(result.products.map((p) => p.name)).not.toContain("Ergonomic office chair");
    expect(result.relevanceScores).toHaveLength(result.products.length);
    expect([...result.relevanceScores].sort((a, b) => b - a)).toEqual(result.relevanceScores);
    expect(result.relevanceScores[0]).toBeGreaterThan(result.relevanceScores.at(-1)!);
  });

  test("when a word is misspelt at its end, then the prefix fallback still finds the product", async () => {
    const result = await anonymous().searchProducts({ query: "ergonomc", categoryId });
    expect(result.products.map((p) => p.name)).toEqual(["Ergonomic office chair"]);
  });

  test("when results span pages, then the token continues the same search and refuses another", async () => {
    const first = await anonymous().searchProducts({ query: "running", categoryId, pageSize: 1 });
    expect(first.products).toHaveLength(1);
    expect(first.nextPageToken).not.toBe("");
    const second = await anonymous().searchProducts({ query: "running", categoryId, pageSize: 1, pageToken: first.nextPageToken });
    expect(second.products).toHaveLength(1);
    expect(second.products[0]!.id).not.toBe(first.products[0]!.id);
    await expectCode(anonymous().searchProducts({ query: "chair", categoryId, pageToken: first.nextPageToken }), Code.InvalidArgument);
  });

  test("when nothing matches, then the result is empty, not an error", async () => {
    const result = await anonymous().searchProducts({ query: "xylophone", categoryId });
    expect(result.products).toEqual([]);
  });
});

describe("Redis cache-aside", () => {
  test("a second read of a product is served from the cache", async () => {
    const product = await buildProduct((await buildCategory()).id);
    const queriesBefore = productQueries.findById;
    const hitsBefore = await cacheCount("hit", "product");
    await anonymous().getProduct({ productId: product.id });
    await anonymous().getProduct({ productId: product.id });
    expect(productQueries.findById - queriesBefore).toBe(1);
    expect((await cacheCount("hit", "product")) - hitsBefore).toBe(1);
  });

  test("when a product changes, then the next Get and the next List show the change (invalidation)", async () => {
    const category = await buildCategory();
    const product = await buildProduct(category.id, { name: "Old name", amountMinor: 1000n });
    expect((await anonymous().getProduct({ productId: product.id })).product?.name).toBe("Old name");
    expect((await anonymous().listProducts({ categoryId: category.id })).products[0]?.name).toBe("Old name");
    expect((await anonymous().listProducts({ categoryId: category.id })).products[0]?.name).toBe("Old name");

    await asAdmin().updateProduct({
      product: { id: product.id, name: "New name", price: { currency: "EUR", amountMinor: 1200n } },
      updateMask: mask("name", "price"),
    });

    const reread = await anonymous().getProduct({ productId: product.id });
    expect(reread.product?.name).toBe("New name");
    expect(reread.product?.price?.amountMinor).toBe(1200n);
    const relisted = await anonymous().listProducts({ categoryId: category.id });
    expect(relisted.products[0]?.name).toBe("New name");
    const batch = await anonymous().batchGetProducts({ ids: [product.id] });
    expect(batch.products[0]?.name).toBe("New name");
  });

  test("when 50 requests for a cold product arrive at once, then MySQL is queried exactly once", async () => {
    const product = await buildProduct((await buildCategory()).id);
    const before = productQueries.findById;
    const client = anonymous();
    const results = await Promise.all(Array.from({ length: 50 }, () => client.getProduct({ productId: product.id })));
    expect(results.every((result) => result.product?.id === product.id)).toBe(true);
    expect(productQueries.findById - before).toBe(1);
  });

  test("BatchGet reads cached products from Redis and loads only the misses, in one query", async () => {
    const categoryId = (await buildCategory()).id;
    const [a, b, c] = [await buildProduct(categoryId), await buildProduct(categoryId), await buildProduct(categoryId)];
    await anonymous().getProduct({ productId: a.id });
    const before = productQueries.findByIds;
    const batch = await anonymous().batchGetProducts({ ids: [c.id, a.id, b.id] });
    expect(batch.products.map((p) => p.id)).toEqual([c.id, a.id, b.id]);
    expect(productQueries.findByIds - before).toBe(1);
    const again = await anonymous().batchGetProducts({ ids: [c.id, a.id, b.id] });
    expect(again.products.map((p) => p.id)).toEqual([c.id, a.id, b.id]);
    expect(productQueries.findByIds - before).toBe(1);
  });

  test("when Redis is unreachable, then Get, BatchGet and List are still answered from MySQL and the errors are counted", async () => {
    const category = await buildCategory();
    const product = await buildProduct(category.id, { name: "Served without cache" });
    const degraded = await buildCatalog(config({ REDIS_URL: "redis://127.0.0.1:1" }), testLogger("catalog-no-redis"), { verifier: tokens.verifier });
    const degradedPort = await degraded.server.listen(0, "127.0.0.1");
    try {
      const client = connectClient(CatalogService, degradedPort);
      expect((await client.getProduct({ productId: product.id })).product?.name).toBe("Served without cache");
      expect((await client.batchGetProducts({ ids: [product.id] })).products).toHaveLength(1);
      expect((await client.listProducts({ categoryId: category.id })).products.map((p) => p.id)).toEqual([product.id]);
      await client.updateProduct(
        { product: { id: product.id, name: "Renamed without cache" }, updateMask: mask("name") },
        { headers: { authorization: `Bearer ${adminToken}` } },
      );
      expect((await client.getProduct({ productId: product.id })).product?.name).toBe("Renamed without cache");
      expect(await cacheCount("error", "product", degraded)).toBeGreaterThanOrEqual(3);
      expect(await cacheCount("error", "list", degraded)).toBeGreaterThanOrEqual(1);
      expect(await degraded.server.checkReadiness()).toBe(true);
    } finally {
      await degraded.server.shutdown(1_000);
      for (const closer of degraded.closers) await closer.close();
    }
  });
});

describe("ProductUpdated through the outbox", () => {
  test("updating a price publishes ProductUpdated to Kafka, keyed by product id, with CloudEvents headers", async () => {
    const product = await buildProduct((await buildCategory()).id, { amountMinor: 100n });
    await asAdmin().updateProduct({ product: { id: product.id, price: { currency: "EUR", amountMinor: 150n } }, updateMask: mask("price") });

    const consumer = testKafka("catalog-test").consumer({ groupId: testGroupId("catalog-test") });
    const seen: Array<{
      type?: string;
      source?: string;
      contentType?: string;
      id?: string;
      event?: ReturnType<typeof decodeEvent<typeof ProductUpdatedSchema>>;
    }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.catalog, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== product.id) return;
          const type = headerString(message.headers, "ce_type");
          seen.push({
            type,
            source: headerString(message.headers, "ce_source"),
            contentType: headerString(message.headers, "content-type"),
            id: headerString(message.headers, "ce_id"),
            event: type === ProductUpdatedSchema.typeName ? decodeEvent(ProductUpdatedSchema, message.value!) : undefined,
          });
        },
      });
      await eventually(async () => (seen.some((item) => item.event) ? true : undefined), { timeoutMs: 20_000, what: "ProductUpdated on Kafka" });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.map((item) => item.type)).toEqual(["shopmesh.events.v1.ProductCreated", "shopmesh.events.v1.ProductUpdated"]);
    const updated = seen[1]!;
    expect(updated).toMatchObject({ source: "/shopmesh/catalog", contentType: "application/protobuf" });
    expect(updated.id).toBeTruthy();
    expect(updated.event?.productId).toBe(product.id);
    expect(updated.event?.changedFields).toEqual(["price"]);
    expect(updated.event?.product?.price?.amountMinor).toBe(150n);
  });
});

describe("over gRPC (grpc-js, as internal callers and grpcurl reach it)", () => {
  test("the same implementation answers gRPC on the same port, with the same error codes", async () => {
    const product = await buildProduct((await buildCategory()).id, { name: "gRPC lamp" });
    const stub = grpcClient(CatalogService, port);
    try {
      expect((await stub.getProduct({ productId: product.id })).product?.name).toBe("gRPC lamp");
      expect((await stub.batchGetProducts({ ids: [product.id] })).products).toHaveLength(1);
      await expect(stub.getProduct({ productId: uuidv7() })).rejects.toMatchObject({ code: Code.NotFound });
      await expect(stub.getProduct({ productId: "not-a-uuid" })).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(
        stub.createProduct({ product: { sku: uniqueSku(), name: "x", categoryId: product.categoryId, price: { currency: "EUR", amountMinor: 1n } } }),
      ).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
    } finally {
      stub.close();
    }
  });
});
