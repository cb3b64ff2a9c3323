import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { DeliveryRecord } from "../domain/delivery.js";
import type { DeliveryStatusName } from "../domain/delivery-status.js";
import type { DeliveryCursor, DeliveryFilter } from "../domain/page-token.js";

interface DeliveryRow extends RowDataPacket {
  id: string;
  order_id: string;
  user_id: string;
  postal_code: string;
  item_count: number;
  status: DeliveryStatusName;
  partner_id: string | null;
  paid_at: Date | null;
  closed_at: Date | null;
  assigned_at: Date | null;
  unassigned_reason: string | null;
  last_note: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  "id, order_id, user_id, postal_code, item_count, status, partner_id, paid_at, closed_at, assigned_at, unassigned_reason, last_note, created_at, updated_at";

/** A delivery that is paid, still open, has a destination and no partner: what assignment works on. */
const AWAITING_PARTNER = "status = 'UNASSIGNED' AND paid_at IS NOT NULL AND closed_at IS NULL AND postal_code <> ''";

function toRecord(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    orderId: row.order_id,
    userId: row.user_id,
    postalCode: row.postal_code,
    itemCount: row.item_count,
    status: row.status,
    partnerId: row.partner_id,
    paidAt: row.paid_at,
    closedAt: row.closed_at,
    assignedAt: row.assigned_at,
    unassignedReason: row.unassigned_reason,
    lastNote: row.last_note,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The `deliveries` table. */
export function createDeliveryStore(pool: Pool) {
  return {
    /** Inserts a new delivery; false when the order already has one (a repeated OrderPlaced). */
    async insertIfAbsent(connection: PoolConnection, record: DeliveryRecord): Promise<boolean> {
      try {
        await connection.query(`INSERT INTO deliveries (${COLUMNS}) VALUES (?)`, [
          [
            record.id,
            record.orderId,
            record.userId,
            record.postalCode,
            record.itemCount,
            record.status,
            record.partnerId,
            record.paidAt,
            record.closedAt,
            record.assignedAt,
            record.unassignedReason,
            record.lastNote,
            record.createdAt,
            record.updatedAt,
          ],
        ]);
        return true;
      } catch (err) {
        // A failed statement leaves the transaction usable: only the statement is rolled back.
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },

    /** Writes every mutable column of a delivery the caller holds locked. */
    async save(connection: PoolConnection, record: DeliveryRecord): Promise<void> {
      await connection.execute(
        "UPDATE deliveries SET user_id = ?, postal_code = ?, item_count = ?, status = ?, partner_id = ?, paid_at = ?, closed_at = ?, assigned_at = ?, unassigned_reason = ?, last_note = ?, updated_at = ? WHERE id = ?",
        [
          record.userId,
          record.postalCode,
          record.itemCount,
          record.status,
          record.partnerId,
          record.paidAt,
          record.closedAt,
          record.assignedAt,
          record.unassignedReason,
          record.lastNote,
          record.updatedAt,
          record.id,
        ],
      );
    },

    async lockByOrder(connection: PoolConnection, orderId: string): Promise<DeliveryRecord | undefined> {
      const [rows] = await connection.query<DeliveryRow[]>(`SELECT ${COLUMNS} FROM deliveries WHERE order_id = ? FOR UPDATE`, [orderId]);
      return rows[0] && toRecord(rows[0]);
    },

    async lockById(connection: PoolConnection, id: string): Promise<DeliveryRecord | undefined> {
      const [rows] = await connection.query<DeliveryRow[]>(`SELECT ${COLUMNS} FROM deliveries WHERE id = ? FOR UPDATE`, [id]);
      return rows[0] && toRecord(rows[0]);
    },

    /**
     * Locks the delivery if it still awaits a partner and nobody else holds it. SKIP LOCKED
     * lets replicas' retry passes, and a retry racing the event consumer, pass each other by.
     */
    async claimAwaitingPartner(connection: PoolConnection, id: string): Promise<DeliveryRecord | undefined> {
      const [rows] = await connection.query<DeliveryRow[]>(`SELECT ${COLUMNS} FROM deliveries WHERE id = ? AND ${AWAITING_PARTNER} FOR UPDATE SKIP LOCKED`, [
        id,
      ]);
      return rows[0] && toRecord(rows[0]);
    },

    /** Ids of deliveries awaiting a partner after `afterId`, oldest first (unlocked; claim each). */
    async listAwaitingPartner(afterId: string, limit: number): Promise<string[]> {
      const [rows] = await pool.query<RowDataPacket[]>(`SELECT id FROM deliveries WHERE ${AWAITING_PARTNER} AND id > ? ORDER BY id LIMIT ?`, [afterId, limit]);
      return rows.map((row) => row["id"] as string);
    },

    /**
     * Deliveries assigned to each partner since `since`, read with a locking read so it sees
     * every committed assignment (a plain read would see the transaction's older snapshot
     * and could let two assigners fill the same last slot).
     */
    async countAssignedSince(connection: PoolConnection, partnerIds: readonly string[], since: Date): Promise<Map<string, number>> {
      const counts = new Map<string, number>();
      if (partnerIds.length === 0) return counts;
      const [rows] = await connection.query<RowDataPacket[]>(
        "SELECT partner_id, COUNT(*) AS n FROM deliveries WHERE partner_id IN (?) AND assigned_at >= ? GROUP BY partner_id LOCK IN SHARE MODE",
        [partnerIds, since],
      );
      for (const row of rows) counts.set(row["partner_id"] as string, Number(row["n"]));
      return counts;
    },

    /** How many deliveries a partner has in progress, with a locking read (see countAssignedSince). */
    async countInProgress(connection: PoolConnection, partnerId: string, statuses: readonly DeliveryStatusName[]): Promise<number> {
      const [rows] = await connection.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM deliveries WHERE partner_id = ? AND status IN (?) LOCK IN SHARE MODE", [
        partnerId,
        statuses,
      ]);
      return Number(rows[0]!["n"]);
    },

    async findById(id: string): Promise<DeliveryRecord | undefined> {
      const [rows] = await pool.query<DeliveryRow[]>(`SELECT ${COLUMNS} FROM deliveries WHERE id = ?`, [id]);
      return rows[0] && toRecord(rows[0]);
    },

    async findByOrder(orderId: string): Promise<DeliveryRecord | undefined> {
      const [rows] = await pool.query<DeliveryRow[]>(`SELECT ${COLUMNS} FROM deliveries WHERE order_id = ?`, [orderId]);
      return rows[0] && toRecord(rows[0]);
    },

    /** Newest first (UUIDv7 ids sort by creation time). */
    async list(filter: DeliveryFilter, after: DeliveryCursor | undefined, limit: number): Promise<DeliveryRecord[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.partnerId) {
        where.push("partner_id = ?");
        params.push(filter.partnerId);
      }
      if (filter.status) {
        where.push("status = ?");
        params.push(filter.status);
      }
      if (after) {
        where.push("id < ?");
        params.push(after.id);
      }
      const [rows] = await pool.query<DeliveryRow[]>(
        `SELECT ${COLUMNS} FROM deliveries ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
        [...params, limit],
      );
      return rows.map(toRecord);
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
