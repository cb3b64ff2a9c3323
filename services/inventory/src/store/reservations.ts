import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { ReservationLine, ReservationRecord, ReservationState } from "../domain/reservation.js";

interface ReservationRow extends RowDataPacket {
  order_id: string;
  state: ReservationState;
  expires_at: Date;
  release_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface LineRow extends RowDataPacket {
  order_id: string;
  product_id: string;
  quantity: number;
}

const COLUMNS = "order_id, state, expires_at, release_reason, created_at, updated_at";

type Queryable = Pool | PoolConnection;

async function withLines(db: Queryable, rows: ReservationRow[]): Promise<ReservationRecord[]> {
  if (rows.length === 0) return [];
  const [lineRows] = await db.query<LineRow[]>(
    "SELECT order_id, product_id, quantity FROM reservation_items WHERE order_id IN (?) ORDER BY order_id, product_id",
    [rows.map((row) => row.order_id)],
  );
  const linesByOrder = new Map<string, ReservationLine[]>();
  for (const line of lineRows) {
    const list = linesByOrder.get(line.order_id) ?? [];
    list.push({ productId: line.product_id, quantity: line.quantity });
    linesByOrder.set(line.order_id, list);
  }
  return rows.map((row) => ({
    orderId: row.order_id,
    state: row.state,
    lines: linesByOrder.get(row.order_id) ?? [],
    expiresAt: row.expires_at,
    releaseReason: row.release_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }));
}

/** The `reservations` and `reservation_items` tables. Order ids arrive normalized. */
export function createReservationStore(pool: Pool) {
  return {
    /**
     * Inserts a new reservation with its lines; false when the order already has one. A
     * concurrent insert of the same order waits on the primary key until the first commits
     * (then sees the duplicate) or rolls back (then goes ahead): one reservation per order.
     */
    async insert(connection: PoolConnection, reservation: ReservationRecord): Promise<boolean> {
      try {
        await connection.execute("INSERT INTO reservations (order_id, state, expires_at, release_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", [
          reservation.orderId,
          reservation.state,
          reservation.expiresAt,
          reservation.releaseReason,
          reservation.createdAt,
          reservation.updatedAt,
        ]);
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
      await connection.query("INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ?", [
        reservation.lines.map((line) => [reservation.orderId, line.productId, line.quantity]),
      ]);
      return true;
    },

    async find(orderId: string): Promise<ReservationRecord | undefined> {
      const [rows] = await pool.execute<ReservationRow[]>(`SELECT ${COLUMNS} FROM reservations WHERE order_id = ?`, [orderId]);
      return (await withLines(pool, rows))[0];
    },

    /** Reads and locks one reservation for the rest of the transaction. */
    async lock(connection: PoolConnection, orderId: string): Promise<ReservationRecord | undefined> {
      const [rows] = await connection.execute<ReservationRow[]>(`SELECT ${COLUMNS} FROM reservations WHERE order_id = ? FOR UPDATE`, [orderId]);
      return (await withLines(connection, rows))[0];
    },

    /**
     * Locks up to `limit` active reservations past their expiry. SKIP LOCKED lets several
     * replicas sweep at once without waiting on (or double-processing) each other's rows, and
     * skips a reservation that a commit or release is handling right now.
     */
    async lockDue(connection: PoolConnection, now: Date, limit: number): Promise<ReservationRecord[]> {
      const [rows] = await connection.query<ReservationRow[]>(
        `SELECT ${COLUMNS} FROM reservations WHERE state = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      return withLines(connection, rows);
    },

    async updateState(connection: PoolConnection, reservation: Pick<ReservationRecord, "orderId" | "state" | "releaseReason" | "updatedAt">): Promise<void> {
      await connection.execute("UPDATE reservations SET state = ?, release_reason = ?, updated_at = ? WHERE order_id = ?", [
        reservation.state,
        reservation.releaseReason,
        reservation.updatedAt,
        reservation.orderId,
      ]);
    },
  };
}

export type ReservationStore = ReturnType<typeof createReservationStore>;
