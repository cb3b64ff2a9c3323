import type { ExecuteValues } from "mysql2";
import { AlreadyExistsError, FailedPreconditionError } from "@shopmesh/platform";
import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { ListCursor, ListOrder, SearchMode } from "../domain/page-token.js";
import type { ProductRecord } from "../domain/product.js";
import type { SearchFilters, SearchOrder } from "../domain/search-query.js";

interface ProductRow extends RowDataPacket {
  id: string;
  sku: string;
  name: string;
  description: string;
  category_id: string;
  price_minor: number | string;
  currency: string;
  attributes: string | Record<string, string>;
  image_url: string;
  active: number;
  created_at: Date;
  updated_at: Date;
  version: number | string;
}

const COLUMNS = "id, sku, name, description, category_id, price_minor, currency, attributes, image_url, active, created_at, updated_at, version";

function toRecord(row: ProductRow): ProductRecord {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    categoryId: row.category_id,
    priceMinor: BigInt(row.price_minor),
    currency: row.currency,
    attributes: typeof row.attributes === "string" ? (JSON.parse(row.attributes) as Record<string, string>) : row.attributes,
    imageUrl: row.image_url,
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

/** SQL for each sort order: the column, its direction, and the keyset bound as a parameter. */
const ORDER_SQL: Record<ListOrder, { column: string; direction: "ASC" | "DESC"; param: (key: string) => ExecuteValues }> = {
  newest: { column: "created_at", direction: "DESC", param: (key) => new Date(Number(key)) },
  price_asc: { column: "price_minor", direction: "ASC", param: (key) => key },
  price_desc: { column: "price_minor", direction: "DESC", param: (key) => key },
  name: { column: "name", direction: "ASC", param: (key) => key },
};

const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === "ER_NO_REFERENCED_ROW_2";

export interface ListQuery {
  order: ListOrder;
  categoryId: string;
  includeInactive: boolean;
  after: ListCursor | undefined;
  limit: number;
}

export interface SearchQuery extends SearchFilters {
  /** Natural-language text, or a boolean-mode expression for the prefix fallback. */
  against: string;
  mode: Exclude<SearchMode, "engine">;
  offset: number;
  limit: number;
}

const SEARCH_ORDER_SQL: Record<SearchOrder, string> = {
  relevance: "score DESC, id ASC",
  price_asc: "price_minor ASC, id ASC",
  price_desc: "price_minor DESC, id ASC",
  newest: "created_at DESC, id ASC",
};

/** The `products` table. Reads return plain records; writes take the transaction's connection. */
export function createProductStore(pool: Pool) {
  return {
    async insert(connection: PoolConnection, product: ProductRecord): Promise<void> {
      try {
        await connection.execute(`INSERT INTO products (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, toParams(product));
      } catch (err) {
        throw translateWriteError(err, product);
      }
    },

    async update(connection: PoolConnection, product: ProductRecord): Promise<void> {
      try {
        await connection.execute(
          `UPDATE products SET sku = ?, name = ?, description = ?, category_id = ?, price_minor = ?, currency = ?, attributes = ?, image_url = ?,
             active = ?, updated_at = ?, version = ?, deleted_at = IF(?, NULL, COALESCE(deleted_at, ?)) WHERE id = ?`,
          [...toParams(product).slice(1, 10), product.updatedAt, product.version, product.active, product.updatedAt, product.id],
        );
      } catch (err) {
        throw translateWriteError(err, product);
      }
    },

    /** Reads and locks one product for the rest of the transaction. */
    async findForUpdate(connection: PoolConnection, id: string): Promise<ProductRecord | undefined> {
      const [rows] = await connection.execute<ProductRow[]>(`SELECT ${COLUMNS} FROM products WHERE id = ? FOR UPDATE`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async findById(id: string): Promise<ProductRecord | undefined> {
      const [rows] = await pool.execute<ProductRow[]>(`SELECT ${COLUMNS} FROM products WHERE id = ?`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async findByIds(ids: readonly string[]): Promise<ProductRecord[]> {
      if (ids.length === 0) return [];
      const [rows] = await pool.query<ProductRow[]>(`SELECT ${COLUMNS} FROM products WHERE id IN (?)`, [ids]);
      return rows.map(toRecord);
    },

    /** One keyset page: rows strictly after the cursor in (sort key, id) order. */
    async list(query: ListQuery): Promise<ProductRecord[]> {
      const { column, direction, param } = ORDER_SQL[query.order];
      const comparison = direction === "ASC" ? ">" : "<";
      const where: string[] = [];
      const params: unknown[] = [];
      if (!query.includeInactive) where.push("active = 1");
      if (query.categoryId) {
        where.push("category_id = ?");
        params.push(query.categoryId);
      }
      if (query.after) {
        const key = param(query.after.key);
        where.push(`(${column} ${comparison} ? OR (${column} = ? AND id ${comparison} ?))`);
        params.push(key, key, query.after.id);
      }
      const sql = `SELECT ${COLUMNS} FROM products ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY ${column} ${direction}, id ${direction} LIMIT ?`;
      const [rows] = await pool.query<ProductRow[]>(sql, [...params, query.limit]);
      return rows.map(toRecord);
    },

    /** Active products matching a FULLTEXT query, in the requested order (ties by id, so pages are stable). */
    async search(query: SearchQuery): Promise<Array<{ product: ProductRecord; score: number }>> {
      const mode = query.mode === "natural" ? "IN NATURAL LANGUAGE MODE" : "IN BOOLEAN MODE";
      const match = `MATCH (name, description, sku) AGAINST (? ${mode})`;
      const params: unknown[] = [query.against, query.against];
      const filters: string[] = [];
      if (query.categoryId) {
        filters.push("category_id = ?");
        params.push(query.categoryId);
      }
      if (query.brands.length > 0) {
        filters.push("JSON_UNQUOTE(JSON_EXTRACT(attributes, '$.brand')) IN (?)");
        params.push([...query.brands]);
      }
      if (query.minPriceMinor > 0n) {
        filters.push("price_minor >= ?");
        params.push(query.minPriceMinor.toString());
      }
      if (query.maxPriceMinor > 0n) {
        filters.push("price_minor <= ?");
        params.push(query.maxPriceMinor.toString());
      }
      if (query.inStock) filters.push("EXISTS (SELECT 1 FROM product_stock WHERE product_stock.product_id = products.id AND product_stock.available > 0)");
      const [rows] = await pool.query<Array<ProductRow & { score: number }>>(
        `SELECT ${COLUMNS}, ${match} AS score FROM products WHERE active = 1 AND ${match} ${filters.map((filter) => `AND ${filter}`).join(" ")}
          ORDER BY ${SEARCH_ORDER_SQL[query.order]} LIMIT ? OFFSET ?`,
        [...params, query.limit, query.offset],
      );
      return rows.map((row) => ({ product: toRecord(row), score: Number(row.score) }));
    },
  };
}

function toParams(product: ProductRecord): Array<string | number | boolean | Date> {
  return [
    product.id,
    product.sku,
    product.name,
    product.description,
    product.categoryId,
    product.priceMinor.toString(),
    product.currency,
    JSON.stringify(product.attributes),
    product.imageUrl,
    product.active,
    product.createdAt,
    product.updatedAt,
    product.version,
  ];
}

function translateWriteError(err: unknown, product: ProductRecord): unknown {
  if (isDuplicateKey(err)) return new AlreadyExistsError(`a product with sku ${product.sku} already exists`);
  if (isForeignKeyViolation(err)) return new FailedPreconditionError(`category ${product.categoryId} does not exist`);
  return err;
}

export type ProductStore = ReturnType<typeof createProductStore>;
