import type { Pool, PoolConnection, RowDataPacket } from "@shopmesh/platform/data";
import type { StockRecord } from "../domain/stock.js";

interface StockRow extends RowDataPacket {
  product_id: string;
  on_hand: number;
  reserved: number;
  low_stock_threshold: number;
  updated_at: Date;
}

function toRecord(row: StockRow): StockRecord {
  return {
    productId: row.product_id,
    onHand: row.on_hand,
    reserved: row.reserved,
    lowStockThreshold: row.low_stock_threshold,
    updatedAt: row.updated_at,
  };
}

const COLUMNS = "product_id, on_hand, reserved, low_stock_threshold, updated_at";

function byId(rows: StockRow[]): Map<string, StockRecord> {
  return new Map(rows.map((row) => [row.product_id, toRecord(row)]));
}

/** The `stock_levels` table. Product ids arrive normalized (lower case). */
export function createStockLevelStore(pool: Pool) {
  return {
    /** Plain reads for the query RPCs; missing products are absent from the map. */
    async findMany(productIds: readonly string[]): Promise<Map<string, StockRecord>> {
      if (productIds.length === 0) return new Map();
      const [rows] = await pool.query<StockRow[]>(`SELECT ${COLUMNS} FROM stock_levels WHERE product_id IN (?)`, [productIds]);
      return byId(rows);
    },

    /**
     * Makes sure the product has a row, locking it. An upsert rather than a locking read of a
     * missing row: under REPEATABLE READ that read takes a gap lock, and two first-time
     * SetStocks in the same gap would deadlock each other on insert.
     */
    async ensureExists(connection: PoolConnection, productId: string, now: Date): Promise<void> {
      await connection.execute(
        "INSERT INTO stock_levels (product_id, on_hand, reserved, low_stock_threshold, created_at, updated_at) VALUES (?, 0, 0, 0, ?, ?) ON DUPLICATE KEY UPDATE product_id = product_id",
        [productId, now, now],
      );
    },

    /**
     * Locks the rows of `productIds` for the rest of the transaction and returns them. One
     * statement in primary-key order, so every transaction takes these locks in the same order.
     */
    async lockMany(connection: PoolConnection, productIds: readonly string[]): Promise<Map<string, StockRecord>> {
      if (productIds.length === 0) return new Map();
      const sorted = [...productIds].sort();
      const [rows] = await connection.query<StockRow[]>(`SELECT ${COLUMNS} FROM stock_levels WHERE product_id IN (?) ORDER BY product_id FOR UPDATE`, [sorted]);
      return byId(rows);
    },

    /** Writes a level read with `lockMany` in this transaction. */
    async save(connection: PoolConnection, level: StockRecord): Promise<void> {
      await connection.execute("UPDATE stock_levels SET on_hand = ?, reserved = ?, low_stock_threshold = ?, updated_at = ? WHERE product_id = ?", [
        level.onHand,
        level.reserved,
        level.lowStockThreshold,
        level.updatedAt,
        level.productId,
      ]);
    },
  };
}

export type StockLevelStore = ReturnType<typeof createStockLevelStore>;
