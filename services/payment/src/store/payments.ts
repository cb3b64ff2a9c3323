import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from "@shopmesh/platform/data";
import type { PaymentState } from "../domain/payment-status.js";

/** A payment as stored. Amounts in minor units. */
export interface PaymentRecord {
  id: string;
  orderId: string;
  userId: string;
  idempotencyKey: string;
  amountMinor: bigint;
  currency: string;
  status: PaymentState;
  providerIntentId: string | null;
  clientSecret: string | null;
  checkoutUrl: string | null;
  failureReason: string | null;
  refundedMinor: bigint;
  /** When payment heard that the order was cancelled (OrderCancelled); null while it was not. */
  orderCancelledAt: Date | null;
  /** The order's cancel reason, for the refund it causes. */
  orderCancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type Queryable = Pool | PoolConnection;

const COLUMNS =
  "id, order_id, user_id, idempotency_key, amount_minor, currency, status, provider_intent_id, client_secret, checkout_url, failure_reason, refunded_minor, order_cancelled_at, order_cancel_reason, created_at, updated_at";

function toRecord(row: RowDataPacket): PaymentRecord {
  return {
    id: row["id"] as string,
    orderId: row["order_id"] as string,
    userId: row["user_id"] as string,
    idempotencyKey: row["idempotency_key"] as string,
    amountMinor: BigInt(row["amount_minor"] as number | string),
    currency: row["currency"] as string,
    status: row["status"] as PaymentState,
    providerIntentId: (row["provider_intent_id"] as string | null) ?? null,
    clientSecret: (row["client_secret"] as string | null) ?? null,
    checkoutUrl: (row["checkout_url"] as string | null) ?? null,
    failureReason: (row["failure_reason"] as string | null) ?? null,
    refundedMinor: BigInt(row["refunded_minor"] as number | string),
    orderCancelledAt: (row["order_cancelled_at"] as Date | null) ?? null,
    orderCancelReason: (row["order_cancel_reason"] as string | null) ?? null,
    createdAt: row["created_at"] as Date,
    updatedAt: row["updated_at"] as Date,
  };
}

async function one(db: Queryable, sql: string, params: unknown[]): Promise<PaymentRecord | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(sql, params);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** The payments table. `lock*` variants take a row lock for the rest of the caller's transaction. */
export function createPaymentStore(pool: Pool) {
  return {
    findById: (id: string, db: Queryable = pool) => one(db, `SELECT ${COLUMNS} FROM payments WHERE id = ?`, [id]),
    findByOrderId: (orderId: string, db: Queryable = pool) => one(db, `SELECT ${COLUMNS} FROM payments WHERE order_id = ?`, [orderId]),
    lockById: (connection: PoolConnection, id: string) => one(connection, `SELECT ${COLUMNS} FROM payments WHERE id = ? FOR UPDATE`, [id]),
    lockByOrderId: (connection: PoolConnection, orderId: string) => one(connection, `SELECT ${COLUMNS} FROM payments WHERE order_id = ? FOR UPDATE`, [orderId]),
    lockByIntentId: (connection: PoolConnection, intentId: string) =>
      one(connection, `SELECT ${COLUMNS} FROM payments WHERE provider_intent_id = ? FOR UPDATE`, [intentId]),

    async insert(connection: Queryable, record: PaymentRecord): Promise<void> {
      await connection.execute(
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, amount_minor, currency, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
          record.id,
          record.orderId,
          record.userId,
          record.idempotencyKey,
          record.amountMinor.toString(),
          record.currency,
          record.status,
          record.createdAt,
          record.updatedAt,
        ],
      );
    },

    /** Records the provider's intent once; a concurrent duplicate call writes the same values. */
    async attachIntent(id: string, intent: { id: string; clientSecret: string; checkoutUrl: string }): Promise<void> {
      await pool.execute(
        "UPDATE payments SET provider_intent_id = ?, client_secret = ?, checkout_url = ? WHERE id = ? AND (provider_intent_id IS NULL OR provider_intent_id = ?)",
        [intent.id, intent.clientSecret, intent.checkoutUrl, id, intent.id],
      );
    },

    async updateStatus(
      connection: PoolConnection,
      id: string,
      change: { status: PaymentState; failureReason?: string; refundedMinor?: bigint },
    ): Promise<void> {
      await connection.execute(
        "UPDATE payments SET status = ?, failure_reason = COALESCE(?, failure_reason), refunded_minor = COALESCE(?, refunded_minor) WHERE id = ?",
        [change.status, change.failureReason ?? null, change.refundedMinor?.toString() ?? null, id],
      );
    },

    /** Remembers the order's cancellation once (a redelivered OrderCancelled keeps the first). */
    async markOrderCancelled(connection: PoolConnection, id: string, reason: string): Promise<void> {
      await connection.execute(
        "UPDATE payments SET order_cancelled_at = COALESCE(order_cancelled_at, CURRENT_TIMESTAMP(3)), order_cancel_reason = COALESCE(order_cancel_reason, ?) WHERE id = ?",
        [reason.slice(0, 500), id],
      );
    },

    /**
     * Moves a payment from `from` to `to` in one statement, outside any longer transaction;
     * false when it was no longer in `from` (a webhook moved it first).
     */
    async moveStatus(id: string, from: PaymentState, to: PaymentState, failureReason?: string): Promise<boolean> {
      const [result] = await pool.execute<ResultSetHeader>(
        "UPDATE payments SET status = ?, failure_reason = COALESCE(?, failure_reason) WHERE id = ? AND status = ?",
        [to, failureReason ?? null, id, from],
      );
      return result.affectedRows === 1;
    },

    /** Payments of cancelled orders whose provider intent still waits to be cancelled. */
    async listIntentsToCancel(limit: number): Promise<PaymentRecord[]> {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT ${COLUMNS} FROM payments WHERE order_cancelled_at IS NOT NULL AND status = 'REQUIRES_CONFIRMATION' AND provider_intent_id IS NOT NULL ORDER BY order_cancelled_at LIMIT ?`,
        [limit],
      );
      return rows.map(toRecord);
    },
  };
}

export type PaymentStore = ReturnType<typeof createPaymentStore>;
