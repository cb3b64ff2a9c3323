import { Code, ConnectError } from "@connectrpc/connect";
import { type CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { type InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import type { GrpcClient } from "@shopmesh/platform";
import { DEMO_CATEGORIES, demoCatalog, type DemoProduct } from "./demo-catalog.js";

export interface SeedOptions {
  catalog: GrpcClient<typeof CatalogService>;
  /** Stock is set only when given (inventory may not be running). */
  inventory?: GrpcClient<typeof InventoryService>;
  /** An admin's access token. */
  adminToken: string;
  /** Products to seed (default: the full demo catalog). */
  products?: DemoProduct[];
  /** Calls in flight at once. */
  concurrency?: number;
}

export interface SeedSummary {
  categoriesCreated: number;
  categoriesExisting: number;
  productsCreated: number;
  productsExisting: number;
  /** Products whose stock was set now; undefined when inventory was not seeded. */
  stockSet: number | undefined;
}

/** Runs `work` over `items` with at most `limit` in flight; rejects on the first failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const isAlreadyExists = (err: unknown) => err instanceof ConnectError && err.code === Code.AlreadyExists;

/**
 * Loads the demo catalog through the public RPCs as an admin. Idempotent: categories are
 * matched by slug and products by SKU, so a second run creates nothing; stock is set only
 * for products inventory has never stocked, so a re-run does not undo sales.
 */
export async function seedDemoCatalog(options: SeedOptions): Promise<SeedSummary> {
  const { catalog } = options;
  const call = { headers: { authorization: `Bearer ${options.adminToken}` }, timeoutMs: 10_000 };
  const concurrency = options.concurrency ?? 16;
  const products = options.products ?? demoCatalog();

  const categoryIds = await listCategoryIds(catalog, call);
  let categoriesCreated = 0;
  for (const category of DEMO_CATEGORIES) {
    if (categoryIds.has(category.slug)) continue;
    try {
      const { category: created } = await catalog.createCategory(
        { category: { slug: category.slug, name: category.name, description: category.description } },
        call,
      );
      categoryIds.set(category.slug, created!.id);
      categoriesCreated++;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  if (categoriesCreated < DEMO_CATEGORIES.length && categoryIds.size < DEMO_CATEGORIES.length) {
    // Another seeder created some concurrently: read them back.
    for (const [slug, id] of await listCategoryIds(catalog, call)) categoryIds.set(slug, id);
  }

  const productIds = await listProductIds(catalog, call);
  const missing = products.filter((product) => !productIds.has(product.sku));
  let productsCreated = 0;
  await forEachLimited(missing, concurrency, async (product) => {
    try {
      const { product: created } = await catalog.createProduct(
        {
          product: {
            sku: product.sku,
            name: product.name,
            description: product.description,
            categoryId: categoryIds.get(product.categorySlug)!,
            price: { currency: product.currency, amountMinor: product.priceMinor },
            attributes: product.attributes,
            imageUrl: product.imageUrl,
          },
        },
        call,
      );
      productIds.set(product.sku, created!.id);
      productsCreated++;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  });
  if (productIds.size < products.length) for (const [sku, id] of await listProductIds(catalog, call)) productIds.set(sku, id);

  let stockSet: number | undefined;
  if (options.inventory) {
    const inventory = options.inventory;
    stockSet = 0;
    const wanted = products.filter((product) => productIds.has(product.sku));
    const chunks: DemoProduct[][] = [];
    for (let start = 0; start < wanted.length; start += 100) chunks.push(wanted.slice(start, start + 100));
    await forEachLimited(chunks, 4, async (chunk) => {
      const { stockLevels } = await inventory.batchGetStock({ productIds: chunk.map((product) => productIds.get(product.sku)!) }, call);
      const neverStocked = chunk.filter((_product, index) => !stockLevels[index]?.updateTime);
      await forEachLimited(neverStocked, concurrency, async (product) => {
        await inventory.setStock({ productId: productIds.get(product.sku)!, onHand: product.stock, lowStockThreshold: 5 }, call);
        stockSet!++;
      });
    });
  }

  return {
    categoriesCreated,
    categoriesExisting: DEMO_CATEGORIES.length - categoriesCreated,
    productsCreated,
    productsExisting: products.length - productsCreated,
    stockSet,
  };
}

type CallOptions = { headers: Record<string, string>; timeoutMs: number };

async function listCategoryIds(catalog: SeedOptions["catalog"], call: CallOptions): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  let pageToken = "";
  do {
    const page = await catalog.listCategories({ pageSize: 100, pageToken }, call);
    page.categories.forEach((category) => ids.set(category.slug, category.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return ids;
}

async function listProductIds(catalog: SeedOptions["catalog"], call: CallOptions): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  let pageToken = "";
  do {
    const page = await catalog.listProducts({ pageSize: 100, pageToken, includeInactive: true }, call);
    page.products.forEach((product) => ids.set(product.sku, product.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return ids;
}
