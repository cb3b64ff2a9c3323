import { AlreadyExistsError } from "@shopmesh/platform";
import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { PartnerCursor } from "../domain/page-token.js";
import type { PartnerRecord } from "../domain/partner.js";

interface PartnerRow extends RowDataPacket {
  id: string;
  name: string;
  contact_email: string;
  phone: string;
  available: number;
  service_area_prefixes: string | string[];
  daily_capacity: number;
  max_order_items: number;
  account_user_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, name, contact_email, phone, available, service_area_prefixes, daily_capacity, max_order_items, account_user_id, created_at, updated_at";

type Queryable = Pool | PoolConnection;

function toRecord(row: PartnerRow): PartnerRecord {
  return {
    id: row.id,
    name: row.name,
    contactEmail: row.contact_email,
    phone: row.phone,
    available: row.available === 1,
    // MariaDB's JSON is LONGTEXT: it comes back as a string.
    serviceAreaPrefixes: typeof row.service_area_prefixes === "string" ? (JSON.parse(row.service_area_prefixes) as string[]) : row.service_area_prefixes,
    dailyCapacity: row.daily_capacity,
    maxOrderItems: row.max_order_items,
    accountUserId: row.account_user_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function rethrowDuplicateAccount(err: unknown, record: PartnerRecord): never {
  if (isDuplicateKey(err)) throw new AlreadyExistsError(`account ${record.accountUserId} is already linked to another partner`);
  throw err;
}

/** The `partners` table. */
export function createPartnerStore(pool: Pool) {
  return {
    async insert(connection: PoolConnection, record: PartnerRecord): Promise<void> {
      try {
        await connection.execute(`INSERT INTO partners (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.id,
          record.name,
          record.contactEmail,
          record.phone,
          record.available,
          JSON.stringify(record.serviceAreaPrefixes),
          record.dailyCapacity,
          record.maxOrderItems,
          record.accountUserId,
          record.createdAt,
          record.updatedAt,
        ]);
      } catch (err) {
        rethrowDuplicateAccount(err, record);
      }
    },

    async update(connection: PoolConnection, record: PartnerRecord): Promise<void> {
      try {
        await connection.execute(
          "UPDATE partners SET name = ?, contact_email = ?, phone = ?, available = ?, service_area_prefixes = ?, daily_capacity = ?, max_order_items = ?, account_user_id = ?, updated_at = ? WHERE id = ?",
          [
            record.name,
            record.contactEmail,
            record.phone,
            record.available,
            JSON.stringify(record.serviceAreaPrefixes),
            record.dailyCapacity,
            record.maxOrderItems,
            record.accountUserId,
            record.updatedAt,
            record.id,
          ],
        );
      } catch (err) {
        rethrowDuplicateAccount(err, record);
      }
    },

    async delete(connection: PoolConnection, id: string): Promise<void> {
      await connection.execute("DELETE FROM partners WHERE id = ?", [id]);
    },

    async findById(id: string, db: Queryable = pool): Promise<PartnerRecord | undefined> {
      const [rows] = await db.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners WHERE id = ?`, [id]);
      return rows[0] && toRecord(rows[0]);
    },

    /** The partner row, locked until the transaction ends: assignments to it wait. */
    async findForUpdate(connection: PoolConnection, id: string): Promise<PartnerRecord | undefined> {
      const [rows] = await connection.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners WHERE id = ? FOR UPDATE`, [id]);
      return rows[0] && toRecord(rows[0]);
    },

    /** The partner a login acts for, if any. */
    async findByAccount(userId: string): Promise<PartnerRecord | undefined> {
      const [rows] = await pool.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners WHERE account_user_id = ?`, [userId]);
      return rows[0] && toRecord(rows[0]);
    },

    /** Every partner, unlocked: the first, cheap pass of assignment (areas are matched in the domain). */
    async listAll(connection: PoolConnection): Promise<PartnerRecord[]> {
      const [rows] = await connection.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners`);
      return rows.map(toRecord);
    },

    /**
     * Locks the given partners in id order (one order for every caller, so two assigners
     * cannot deadlock on each other) and returns their current rows.
     */
    async lockMany(connection: PoolConnection, ids: readonly string[]): Promise<PartnerRecord[]> {
      if (ids.length === 0) return [];
      const [rows] = await connection.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners WHERE id IN (?) ORDER BY id FOR UPDATE`, [ids]);
      return rows.map(toRecord);
    },

    async list(after: PartnerCursor | undefined, limit: number): Promise<PartnerRecord[]> {
      const [rows] = after
        ? await pool.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners WHERE (name, id) > (?, ?) ORDER BY name, id LIMIT ?`, [after.name, after.id, limit])
        : await pool.query<PartnerRow[]>(`SELECT ${COLUMNS} FROM partners ORDER BY name, id LIMIT ?`, [limit]);
      return rows.map(toRecord);
    },
  };
}

export type PartnerStore = ReturnType<typeof createPartnerStore>;
