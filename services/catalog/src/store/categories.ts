import { AlreadyExistsError } from "@shopmesh/platform";
import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { CategoryRecord } from "../domain/product.js";

interface CategoryRow extends RowDataPacket {
  id: string;
  slug: string;
  name: string;
  description: string;
}

const toRecord = (row: CategoryRow): CategoryRecord => ({ id: row.id, slug: row.slug, name: row.name, description: row.description });

/** The `categories` table. */
export function createCategoryStore(pool: Pool) {
  return {
    async insert(connection: PoolConnection, category: CategoryRecord): Promise<void> {
      try {
        await connection.execute("INSERT INTO categories (id, slug, name, description) VALUES (?, ?, ?, ?)", [
          category.id,
          category.slug,
          category.name,
          category.description,
        ]);
      } catch (err) {
        if (isDuplicateKey(err)) throw new AlreadyExistsError(`a category with slug ${category.slug} already exists`);
        throw err;
      }
    },

    /** Whether the category exists, holding a shared lock on it until the transaction ends. */
    async existsLocked(connection: PoolConnection, id: string): Promise<boolean> {
      const [rows] = await connection.execute<CategoryRow[]>("SELECT id FROM categories WHERE id = ? LOCK IN SHARE MODE", [id]);
      return rows.length > 0;
    },

    /** Categories by (name, id), after the given position. */
    async list(after: { name: string; id: string } | undefined, limit: number): Promise<CategoryRecord[]> {
      const [rows] = after
        ? await pool.query<CategoryRow[]>(
            "SELECT id, slug, name, description FROM categories WHERE name > ? OR (name = ? AND id > ?) ORDER BY name, id LIMIT ?",
            [after.name, after.name, after.id, limit],
          )
        : await pool.query<CategoryRow[]>("SELECT id, slug, name, description FROM categories ORDER BY name, id LIMIT ?", [limit]);
      return rows.map(toRecord);
    },
  };
}

export type CategoryStore = ReturnType<typeof createCategoryStore>;
