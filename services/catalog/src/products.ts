import { v7 as uuidv7 } from "uuid";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, type Logger } from "@shopmesh/platform";
import { withTransaction, type Pool, type PoolConnection } from "@shopmesh/platform/data";
import type { CatalogCache } from "./cache/catalog-cache.js";
import { applyProductUpdate, type CategoryRecord, type ProductPatch, type ProductRecord } from "./domain/product.js";
import { productEvents } from "./events/product-events.js";
import type { CategoryStore } from "./store/categories.js";
import type { ProductStore } from "./store/products.js";

export interface ProductWritesDeps {
  pool: Pool;
  products: ProductStore;
  categories: CategoryStore;
  cache: CatalogCache;
  logger: Logger;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting. */
  onOutboxWrite: () => void;
}

/**
 * The catalog use cases that change it. Each product write is one transaction with its
 * product event (the search index and the carts follow from those), then the cache entry goes.
 */
export function createProductWrites(deps: ProductWritesDeps) {
  const { products, categories, cache } = deps;

  /** Runs a product write, then (after commit) invalidates its cache entries and wakes the relay. */
  async function writeProduct<T extends { wroteEvent: boolean }>(id: string, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const result = await withTransaction(deps.pool, work);
    if (result.wroteEvent) {
      await cache.invalidateProduct(id);
      deps.onOutboxWrite();
    }
    return result;
  }

  async function assertCategoryExists(connection: PoolConnection, categoryId: string) {
    if (!(await categories.existsLocked(connection, categoryId))) throw new FailedPreconditionError(`category ${categoryId} does not exist`);
  }

  return {
    async createCategory(input: { slug: string; name: string; description: string }): Promise<CategoryRecord> {
      const record = { id: uuidv7(), slug: input.slug, name: input.name.trim(), description: input.description };
      if (record.name === "") throw new InvalidArgumentError("name must not be blank");
      await withTransaction(deps.pool, (connection) => categories.insert(connection, record));
      deps.logger.info({ category_id: record.id, slug: record.slug }, "category created");
      return record;
    },

    async createProduct(patch: ProductPatch): Promise<ProductRecord> {
      const now = new Date();
      const record: ProductRecord = {
        id: uuidv7(),
        sku: patch.sku,
        name: patch.name.trim(),
        description: patch.description,
        categoryId: patch.categoryId,
        priceMinor: patch.price!.amountMinor,
        currency: patch.price!.currency,
        attributes: patch.attributes,
        imageUrl: patch.imageUrl,
        // A new product is on sale: proto3 cannot tell an unset `active` from false.
        active: true,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      if (record.name === "") throw new InvalidArgumentError("name must not be blank");
      await writeProduct(record.id, async (connection) => {
        await assertCategoryExists(connection, record.categoryId);
        await products.insert(connection, record);
        await productEvents.created(connection, record);
        return { wroteEvent: true };
      });
      deps.logger.info({ product_id: record.id }, "product created");
      return record;
    },

    /** Applies the fields named by `paths`; a change that changes nothing writes nothing. */
    async updateProduct(id: string, patch: ProductPatch, paths: readonly string[]): Promise<ProductRecord> {
      const { product } = await writeProduct(id, async (connection) => {
        const current = await products.findForUpdate(connection, id);
        if (!current) throw new NotFoundError(`product ${id} not found`);
        const { next, changed } = applyProductUpdate(current, patch, paths, new Date());
        if (changed.length === 0) return { product: current, wroteEvent: false };
        if (changed.includes("category_id")) await assertCategoryExists(connection, next.categoryId);
        await products.update(connection, next);
        await productEvents.updated(connection, next, changed);
        return { product: next, wroteEvent: true };
      });
      return product;
    },

    /** Takes a product off sale (soft delete: orders and carts still name it). */
    async deleteProduct(id: string): Promise<ProductRecord> {
      const { product } = await writeProduct(id, async (connection) => {
        const current = await products.findForUpdate(connection, id);
        if (!current) throw new NotFoundError(`product ${id} not found`);
        if (!current.active) return { product: current, wroteEvent: false };
        const next = { ...current, active: false, updatedAt: new Date(), version: current.version + 1 };
        await products.update(connection, next);
        await productEvents.deleted(connection, next);
        return { product: next, wroteEvent: true };
      });
      return product;
    },
  };
}

export type ProductWrites = ReturnType<typeof createProductWrites>;
