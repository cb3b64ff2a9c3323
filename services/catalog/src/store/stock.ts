import type { Pool, PoolConnection, RowDataPacket } from "@shopmesh/platform/data";

/** A product's available units as of one of inventory's StockChanged events. */
export interface StockLevel {
  productId: string;
  available: number;
  /** When inventory changed it; orders the events of one product. */
  changedAt: Date;
}

interface StockRow extends RowDataPacket {
  product_id: string;
  available: number;
  changed_at: Date;
}

const COLUMNS = "product_id, available, changed_at";
const toLevel = (row: StockRow): StockLevel => ({ productId: row.product_id, available: row.available, changedAt: row.changed_at });

/** The `product_stock` read model: inventory's availability, copied from its events. */
export function createStockStore(pool: Pool) {
  return {
    /** Keeps the newest level per product: an older event arriving late changes nothing. */
    async record(connection: PoolConnection, level: StockLevel): Promise<void> {
      // Assignments run left to right: `available` still compares against the old changed_at.
      await connection.execute(
        `INSERT INTO product_stock (product_id, available, changed_at) VALUES (?, ?, ?)
           ON DUPLICATE KEY UPDATE available = IF(VALUES(changed_at) >= changed_at, VALUES(available), available),
             changed_at = GREATEST(changed_at, VALUES(changed_at))`,
        [level.productId, level.available, level.changedAt],
      );
    },

    /** The levels of these products (those inventory never reported are absent). */
    async findByIds(ids: readonly string[]): Promise<Map<string, StockLevel>> {
      if (ids.length === 0) return new Map();
      const [rows] = await pool.query<StockRow[]>(`SELECT ${COLUMNS} FROM product_stock WHERE product_id IN (?)`, [ids]);
      return new Map(rows.map((row) => [row.product_id, toLevel(row)]));
    },

    /** Levels that changed at or after `since`, in pages by product id. */
    async changedSince(since: Date, after: string, limit: number): Promise<StockLevel[]> {
      const [rows] = await pool.query<StockRow[]>(`SELECT ${COLUMNS} FROM product_stock WHERE changed_at >= ? AND product_id > ? ORDER BY product_id LIMIT ?`, [
        since,
        after,
        limit,
      ]);
      return rows.map(toLevel);
    },
  };
}

export type StockStore = ReturnType<typeof createStockStore>;
