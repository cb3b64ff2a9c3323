import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentStatus } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import type { PricedLine } from "../domain/pricing.js";
import { parseStatus, statusName } from "../domain/status.js";

export interface ShippingAddress {
  recipientName: string;
  line1: string;
  line2: string;
  city: string;
  postalCode: string;
  countryCode: string;
  phone: string;
}

/** An order as the service holds it. Money in minor units as bigint. */
export interface OrderRecord {
  id: string;
  userId: string;
  userEmail: string;
  idempotencyKey: string;
  status: OrderStatus;
  currency: string;
  subtotalMinor: bigint;
  shippingFeeMinor: bigint;
  totalMinor: bigint;
  shippingAddress: ShippingAddress;
  paymentId: string | null;
  /** The payment's status as payment's events last told it; UNSPECIFIED before any. */
  paymentStatus: PaymentStatus;
  /** Refunded so far (PaymentRefunded), in minor units of `currency`. */
  refundedMinor: bigint;
  /** When the stock reservation made by PlaceOrder expires; null when inventory named no expiry. */
  reservationExpiresAt: Date | null;
  deliveryId: string | null;
  cancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  lines: PricedLine[];
}

interface OrderRow extends RowDataPacket {
  id: string;
  user_id: string;
  user_email: string;
  idempotency_key: string;
  status: string;
  currency: string;
  subtotal_minor: string | number;
  shipping_fee_minor: string | number;
  total_minor: string | number;
  shipping_address: ShippingAddress | string;
  payment_id: string | null;
  payment_status: string | null;
  refunded_minor: string | number;
  reservation_expires_at: Date | null;
  delivery_id: string | null;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

interface LineRow extends RowDataPacket {
  order_id: string;
  product_id: string;
  name: string;
  quantity: number;
  unit_price_minor: string | number;
  line_total_minor: string | number;
}

const COLUMNS =
  "id, user_id, user_email, idempotency_key, status, currency, subtotal_minor, shipping_fee_minor, total_minor, shipping_address, payment_id, payment_status, refunded_minor, reservation_expires_at, delivery_id, cancel_reason, created_at, updated_at";

/** Payment statuses are stored by name without the enum prefix, like order statuses. */
const paymentStatusName = (status: PaymentStatus): string | null => (status === PaymentStatus.UNSPECIFIED ? null : PaymentStatus[status]);
const parsePaymentStatus = (name: string | null): PaymentStatus =>
  name ? (PaymentStatus[name as keyof typeof PaymentStatus] ?? PaymentStatus.UNSPECIFIED) : PaymentStatus.UNSPECIFIED;

function toRecord(row: OrderRow, lines: LineRow[]): OrderRecord {
  return {
    id: row.id,
    userId: row.user_id,
    userEmail: row.user_email,
    idempotencyKey: row.idempotency_key,
    status: parseStatus(row.status),
    currency: row.currency,
    subtotalMinor: BigInt(row.subtotal_minor),
    shippingFeeMinor: BigInt(row.shipping_fee_minor),
    totalMinor: BigInt(row.total_minor),
    shippingAddress: typeof row.shipping_address === "string" ? (JSON.parse(row.shipping_address) as ShippingAddress) : row.shipping_address,
    paymentId: row.payment_id,
    paymentStatus: parsePaymentStatus(row.payment_status),
    refundedMinor: BigInt(row.refunded_minor),
    reservationExpiresAt: row.reservation_expires_at,
    deliveryId: row.delivery_id,
    cancelReason: row.cancel_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lines: lines.map((line) => ({
      productId: line.product_id,
      name: line.name,
      quantity: line.quantity,
      unitPriceMinor: BigInt(line.unit_price_minor),
      lineTotalMinor: BigInt(line.line_total_minor),
    })),
  };
}

type Queryable = Pool | PoolConnection;

async function withLines(db: Queryable, rows: OrderRow[]): Promise<OrderRecord[]> {
  if (rows.length === 0) return [];
  const [lines] = await db.query<LineRow[]>(
    "SELECT order_id, product_id, name, quantity, unit_price_minor, line_total_minor FROM order_lines WHERE order_id IN (?) ORDER BY order_id, line_no",
    [rows.map((row) => row.id)],
  );
  return rows.map((row) =>
    toRecord(
      row,
      lines.filter((line) => line.order_id === row.id),
    ),
  );
}

/** Keyset cursor for ListOrders: newest first by (created_at, id). */
export interface OrderCursor {
  createdAt: Date;
  id: string;
}

/** The `orders` and `order_lines` tables. */
export function createOrderStore(pool: Pool) {
  return {
    /** Inserts a new order; returns false when an order with this id already exists (a retried PlaceOrder). */
    async insert(connection: PoolConnection, order: OrderRecord): Promise<boolean> {
      try {
        await connection.execute(
          "INSERT INTO orders (id, user_id, user_email, idempotency_key, status, currency, subtotal_minor, shipping_fee_minor, total_minor, shipping_address, payment_id, reservation_expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          [
            order.id,
            order.userId,
            order.userEmail,
            order.idempotencyKey,
            statusName(order.status),
            order.currency,
            order.subtotalMinor.toString(),
            order.shippingFeeMinor.toString(),
            order.totalMinor.toString(),
            JSON.stringify(order.shippingAddress),
            order.paymentId,
            order.reservationExpiresAt,
            order.createdAt,
            order.updatedAt,
          ],
        );
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
      let lineNo = 0;
      for (const line of order.lines) {
        await connection.execute(
          "INSERT INTO order_lines (order_id, line_no, product_id, name, quantity, unit_price_minor, line_total_minor) VALUES (?, ?, ?, ?, ?, ?, ?)",
          [order.id, ++lineNo, line.productId, line.name, line.quantity, line.unitPriceMinor.toString(), line.lineTotalMinor.toString()],
        );
      }
      return true;
    },

    async get(id: string, db: Queryable = pool): Promise<OrderRecord | undefined> {
      const [rows] = await db.execute<OrderRow[]>(`SELECT ${COLUMNS} FROM orders WHERE id = ?`, [id]);
      return (await withLines(db, rows))[0];
    },

    /** Reads and row-locks an order for a state change inside the caller's transaction. */
    async getForUpdate(connection: PoolConnection, id: string): Promise<OrderRecord | undefined> {
      const [rows] = await connection.execute<OrderRow[]>(`SELECT ${COLUMNS} FROM orders WHERE id = ? FOR UPDATE`, [id]);
      return (await withLines(connection, rows))[0];
    },

    async list(filter: { userId?: string; status?: OrderStatus; after?: OrderCursor; limit: number }): Promise<OrderRecord[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.userId) {
        where.push("user_id = ?");
        params.push(filter.userId);
      }
      if (filter.status !== undefined) {
        where.push("status = ?");
        params.push(statusName(filter.status));
      }
      if (filter.after) {
        where.push("(created_at < ? OR (created_at = ? AND id < ?))");
        params.push(filter.after.createdAt, filter.after.createdAt, filter.after.id);
      }
      const [rows] = await pool.query<OrderRow[]>(
        `SELECT ${COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?`,
        [...params, filter.limit],
      );
      return withLines(pool, rows);
    },

    async update(
      connection: PoolConnection,
      id: string,
      changes: Partial<{
        status: OrderStatus;
        paymentStatus: PaymentStatus;
        refundedMinor: bigint;
        deliveryId: string;
        cancelReason: string;
      }>,
    ): Promise<void> {
      const sets: string[] = [];
      const params: Array<string | number | null> = [];
      if (changes.status !== undefined) {
        sets.push("status = ?");
        params.push(statusName(changes.status));
      }
      if (changes.paymentStatus !== undefined) {
        sets.push("payment_status = ?");
        params.push(paymentStatusName(changes.paymentStatus));
      }
      if (changes.refundedMinor !== undefined) {
        // Refund totals only grow: an older total delivered late never lowers it.
        sets.push("refunded_minor = GREATEST(refunded_minor, ?)");
        params.push(changes.refundedMinor.toString());
      }
      if (changes.deliveryId !== undefined) {
        sets.push("delivery_id = ?");
        params.push(changes.deliveryId);
      }
      if (changes.cancelReason !== undefined) {
        sets.push("cancel_reason = ?");
        params.push(changes.cancelReason);
      }
      if (sets.length === 0) return;
      await connection.execute(`UPDATE orders SET ${sets.join(", ")} WHERE id = ?`, [...params, id]);
    },

    /** Pending orders older than `cutoff`, locked for this sweeper and skipped by others. */
    async claimUnpaid(connection: PoolConnection, cutoff: Date, limit: number): Promise<string[]> {
      const [rows] = await connection.query<Array<RowDataPacket & { id: string }>>(
        "SELECT id FROM orders WHERE status = 'PENDING' AND created_at < ? ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED",
        [cutoff, limit],
      );
      return rows.map((row) => row.id);
    },
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
