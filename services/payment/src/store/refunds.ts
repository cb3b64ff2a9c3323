import type { Pool, PoolConnection, RowDataPacket } from "@shopmesh/platform/data";

export interface RefundRecord {
  id: string;
  paymentId: string;
  idempotencyKey: string;
  amountMinor: bigint;
  reason: string;
  status: "REQUESTED" | "SUCCEEDED";
  providerRefundId: string | null;
}

function toRecord(row: RowDataPacket): RefundRecord {
  return {
    id: row["id"] as string,
    paymentId: row["payment_id"] as string,
    idempotencyKey: row["idempotency_key"] as string,
    amountMinor: BigInt(row["amount_minor"] as number | string),
    reason: row["reason"] as string,
    status: row["status"] as RefundRecord["status"],
    providerRefundId: (row["provider_refund_id"] as string | null) ?? null,
  };
}

const COLUMNS = "id, payment_id, idempotency_key, amount_minor, reason, status, provider_refund_id";

/** Refunds asked of the provider; the payment row lock serialises changes per payment. */
export const refundStore = {
  async findByKey(connection: PoolConnection, paymentId: string, idempotencyKey: string): Promise<RefundRecord | undefined> {
    const [rows] = await connection.query<RowDataPacket[]>(`SELECT ${COLUMNS} FROM refunds WHERE payment_id = ? AND idempotency_key = ?`, [
      paymentId,
      idempotencyKey,
    ]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  },

  async findForWebhook(
    connection: PoolConnection,
    paymentId: string,
    refundId: string | undefined,
    providerRefundId: string | undefined,
  ): Promise<RefundRecord | undefined> {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT ${COLUMNS} FROM refunds WHERE payment_id = ? AND (id = ? OR provider_refund_id = ?) FOR UPDATE`,
      [paymentId, refundId ?? "", providerRefundId ?? ""],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  },

  /** Amount promised to the customer so far: requested and completed refunds. */
  async committedMinor(connection: PoolConnection, paymentId: string): Promise<bigint> {
    const [rows] = await connection.query<RowDataPacket[]>("SELECT COALESCE(SUM(amount_minor), 0) AS total FROM refunds WHERE payment_id = ?", [paymentId]);
    return BigInt(String(rows[0]!["total"]));
  },

  async insert(connection: PoolConnection, record: RefundRecord): Promise<void> {
    await connection.execute(
      "INSERT INTO refunds (id, payment_id, idempotency_key, amount_minor, reason, status, provider_refund_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [record.id, record.paymentId, record.idempotencyKey, record.amountMinor.toString(), record.reason, record.status, record.providerRefundId],
    );
  },

  async markSucceeded(connection: PoolConnection, id: string, providerRefundId: string): Promise<void> {
    await connection.execute("UPDATE refunds SET status = 'SUCCEEDED', provider_refund_id = ? WHERE id = ?", [providerRefundId, id]);
  },

  async attachProviderRefund(connection: Pool | PoolConnection, id: string, providerRefundId: string): Promise<void> {
    await connection.execute("UPDATE refunds SET provider_refund_id = ? WHERE id = ? AND provider_refund_id IS NULL", [providerRefundId, id]);
  },

  /** Refunds recorded (REQUESTED) but not yet accepted by the provider, oldest first, with their intent. */
  async listUnsent(pool: Pool, limit: number): Promise<Array<RefundRecord & { providerIntentId: string | null }>> {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT r.id, r.payment_id, r.idempotency_key, r.amount_minor, r.reason, r.status, r.provider_refund_id, p.provider_intent_id
       FROM refunds r JOIN payments p ON p.id = r.payment_id
       WHERE r.status = 'REQUESTED' AND r.provider_refund_id IS NULL ORDER BY r.created_at, r.id LIMIT ?`,
      [limit],
    );
    return rows.map((row) => ({ ...toRecord(row), providerIntentId: (row["provider_intent_id"] as string | null) ?? null }));
  },
};
