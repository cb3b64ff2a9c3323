import { isDuplicateKey, withTransaction, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { ChannelName, NewNotification, NotificationRecord, NotificationState } from "../domain/notification.js";

interface NotificationRow extends RowDataPacket {
  id: string;
  idempotency_key: string;
  channel: ChannelName;
  recipient: string;
  template_key: string;
  data: string | Record<string, string>;
  status: NotificationState;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  sent_at: Date | null;
}

const COLUMNS = "id, idempotency_key, channel, recipient, template_key, data, status, attempts, last_error, next_attempt_at, created_at, sent_at";

function toRecord(row: NotificationRow): NotificationRecord {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    channel: row.channel,
    recipient: row.recipient,
    templateKey: row.template_key,
    data: typeof row.data === "string" ? (JSON.parse(row.data) as Record<string, string>) : row.data,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error ?? undefined,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    sentAt: row.sent_at ?? undefined,
  };
}

type Queryable = Pool | PoolConnection;

export interface ListFilter {
  status?: NotificationState | undefined;
  recipient?: string | undefined;
  /** Only ids below this one (the previous page's last id). */
  beforeId?: string | undefined;
  limit: number;
}

/** The `notifications` table: the queue and the record of every notification. */
export function createNotificationStore(pool: Pool) {
  async function findByIdempotencyKey(db: Queryable, key: string): Promise<NotificationRecord | undefined> {
    const [rows] = await db.execute<NotificationRow[]>(`SELECT ${COLUMNS} FROM notifications WHERE idempotency_key = ?`, [key]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  return {
    findByIdempotencyKey: (key: string) => findByIdempotencyKey(pool, key),

    /**
     * Queues a notification unless one with the same idempotency key exists; either way
     * returns the stored one and whether it was created now.
     */
    async enqueue(connection: PoolConnection, notification: NewNotification): Promise<{ record: NotificationRecord; created: boolean }> {
      try {
        await connection.execute(
          "INSERT INTO notifications (id, idempotency_key, channel, recipient, template_key, data, status) VALUES (?, ?, ?, ?, ?, ?, 'QUEUED')",
          [
            notification.id,
            notification.idempotencyKey,
            notification.channel,
            notification.recipient,
            notification.templateKey,
            JSON.stringify(notification.data),
          ],
        );
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const existing = await findByIdempotencyKey(connection, notification.idempotencyKey);
        if (!existing) throw err;
        return { record: existing, created: false };
      }
      const [rows] = await connection.execute<NotificationRow[]>(`SELECT ${COLUMNS} FROM notifications WHERE id = ?`, [notification.id]);
      return { record: toRecord(rows[0]!), created: true };
    },

    async findById(id: string): Promise<NotificationRecord | undefined> {
      const [rows] = await pool.execute<NotificationRow[]>(`SELECT ${COLUMNS} FROM notifications WHERE id = ?`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    /** Newest first (ids are UUIDv7, so id order is creation order). */
    async list(filter: ListFilter): Promise<NotificationRecord[]> {
      const where: string[] = [];
      const params: Array<string | number> = [];
      if (filter.status) {
        where.push("status = ?");
        params.push(filter.status);
      }
      if (filter.recipient) {
        where.push("recipient = ?");
        params.push(filter.recipient);
      }
      if (filter.beforeId) {
        where.push("id < ?");
        params.push(filter.beforeId);
      }
      const [rows] = await pool.query<NotificationRow[]>(
        `SELECT ${COLUMNS} FROM notifications ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
        [...params, filter.limit],
      );
      return rows.map(toRecord);
    },

    /**
     * Claims up to `limit` due notifications of one channel. The rows are locked with
     * SKIP LOCKED (another replica claiming at the same moment gets other rows), counted as
     * an attempt and leased: their next_attempt_at moves `leaseMs` ahead, so a worker that
     * dies mid-send hands them back when the lease runs out.
     */
    async claimDue(channel: ChannelName, limit: number, leaseMs: number): Promise<NotificationRecord[]> {
      return withTransaction(pool, async (connection) => {
        const [rows] = await connection.query<NotificationRow[]>(
          `SELECT ${COLUMNS} FROM notifications
           WHERE channel = ? AND status IN ('QUEUED', 'FAILED') AND next_attempt_at <= CURRENT_TIMESTAMP(3)
           ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED`,
          [channel, limit],
        );
        if (rows.length === 0) return [];
        const ids = rows.map((row) => row.id);
        await connection.query(
          "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE id IN (?)",
          [leaseMs * 1000, ids],
        );
        return rows.map((row) => ({ ...toRecord(row), attempts: row.attempts + 1 }));
      });
    },

    /** Hands claimed but untried notifications back: the attempt is not counted and they are due now. */
    async release(ids: string[]): Promise<void> {
      await pool.query(
        "UPDATE notifications SET attempts = attempts - 1, next_attempt_at = CURRENT_TIMESTAMP(3) WHERE id IN (?) AND status IN ('QUEUED', 'FAILED')",
        [ids],
      );
    },

    async markSent(connection: PoolConnection, id: string): Promise<void> {
      await connection.execute("UPDATE notifications SET status = 'SENT', sent_at = CURRENT_TIMESTAMP(3), last_error = NULL WHERE id = ?", [id]);
    },

    /** Records a failed attempt: FAILED with the next try `retryInMs` from now, or DEAD_LETTERED. */
    async markFailed(connection: PoolConnection, id: string, failure: { error: string; retryInMs: number | undefined }): Promise<void> {
      if (failure.retryInMs === undefined) {
        await connection.execute("UPDATE notifications SET status = 'DEAD_LETTERED', last_error = ? WHERE id = ?", [failure.error.slice(0, 2000), id]);
        return;
      }
      await connection.execute(
        "UPDATE notifications SET status = 'FAILED', last_error = ?, next_attempt_at = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE id = ?",
        [failure.error.slice(0, 2000), failure.retryInMs * 1000, id],
      );
    },
  };
}

export type NotificationStore = ReturnType<typeof createNotificationStore>;
