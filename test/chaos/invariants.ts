/**
 * The chaos harness's judge: after a fault and its recovery, reads every service's own database
 * (read-only) and counts what broke the shop's guarantees. Queries are set-based; the databases
 * share one server, so cross-service checks are cross-database joins on one pool. One fault may
 * show in more than one count (a double commit repeats StockCommitted and also drifts the stock
 * level): the counts say that something broke and where, not how many faults there were.
 */
import mysql, { type Pool, type RowDataPacket } from "mysql2/promise";
import { TEST_MYSQL } from "@shopmesh/platform/testing";

export interface CheckoutRecord {
  /** The order id the client got back from an acknowledged PlaceOrder. */
  orderId: string;
  userId: string;
  /** The customer's address: the checker counts what Mailpit received for it. */
  email: string;
  productId: string;
  quantity: number;
  /** The customer confirmed payment at the provider with a good card and got a 2xx answer. */
  paid: boolean;
}

export interface InvariantInput {
  /** service name -> database name, e.g. { order: "t_order_ab12", payment: ..., inventory: ..., delivery: ..., notification: ... } (a missing service is skipped). */
  databases: Record<string, string>;
  /** Every PlaceOrder the clients saw acknowledged. */
  acknowledged: CheckoutRecord[];
  /** Products the run stocked, with the on-hand quantity set before the load started. */
  initialStock: Record<string, number>;
}

export interface InvariantReport {
  /** Acknowledged orders with no row, another user's row, or a state their payment rules out. */
  lost: number;
  /** Anything applied twice for one cause (orders, payments, captures, ledger groups, stock steps, deliveries, emails). */
  duplicated: number;
  /** Products sold beyond their stock or with impossible levels, and paid orders whose stock is not committed. */
  oversold: number;
  /** Orders with more than one capture. */
  doubleCharged: number;
  /** Ledger groups and payments whose entries do not sum to 0, plus 1 if the whole ledger does not. */
  ledgerImbalance: number;
  /** Stock still held (ACTIVE) or still sold (COMMITTED) although the order no longer wants it. */
  leakedReservations: number;
  /**
   * Paid orders the shop cancelled anyway (the payment came after the order expired) and whose
   * payment it refunded by itself: the promised outcome for a late payment, counted so it shows.
   */
  refundedAfterCancel: number;
  /** One short human-readable line per violation (first 50), for the report and test failure messages. */
  details: string[];
}

type Count = Exclude<keyof InvariantReport, "details" | "refundedAfterCancel">;
type Flag = (count: Count, line: string) => void;
type Row = Record<string, string | number | null>;

const PAID_OR_LATER = ["PAID", "PACKED", "SHIPPED", "DELIVERED"];
const UNPAID_STATES = ["PENDING", "CANCELLED", "PAYMENT_FAILED"];
const CAPTURED = ["SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"];
/** Events a service writes at most once per key (the order id): a second is an effect applied twice. */
const ONCE_PER_ORDER_EVENTS: Record<string, string[]> = {
  order: ["OrderPlaced", "OrderCancelled"],
  payment: ["PaymentSucceeded", "PaymentFailed"],
  inventory: ["StockReserved", "StockReservationReleased", "StockCommitted", "StockReturned"],
  delivery: ["DeliveryAssigned"],
};
/** Emails that follow a once-per-order fact; payment.refunded may repeat (partial refunds). */
const ONCE_PER_ORDER_TEMPLATES = [
  "order.placed",
  "payment.succeeded",
  "payment.failed",
  "order.cancelled",
  "delivery.assigned",
  "delivery.shipped",
  "delivery.delivered",
];
/** How long past expires_at inventory's sweeper (every 5 s by default) may take to expire a reservation. */
const SWEEP_GRACE_MS = 60_000;

/** One pool for one call. timezone "Z" as the services use, so DATETIME parameters compare like theirs. */
function openPool(databases: Record<string, string>): Pool {
  for (const name of Object.values(databases)) {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${JSON.stringify(name)}`);
  }
  return mysql.createPool({ ...TEST_MYSQL, connectionLimit: 2, timezone: "Z", supportBigNumbers: true, bigNumberStrings: true });
}

interface Db {
  /** `db`.`table` of a service's table, or undefined when the service or the table is absent. */
  table(service: string, table: string): string | undefined;
  rows(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Flags one violation per row the query returns. */
  each(count: Count, sql: string, params: unknown[], describe: (row: Row) => string): Promise<void>;
}

async function openDb(pool: Pool, databases: Record<string, string>, flag: Flag = () => {}): Promise<Db> {
  const rows = async (sql: string, params: unknown[] = []) => (await pool.query<RowDataPacket[]>(sql, params))[0] as Row[];
  const names = Object.values(databases);
  const tables =
    names.length === 0 ? [] : await rows("SELECT table_schema AS db, table_name AS name FROM information_schema.tables WHERE table_schema IN (?)", [names]);
  const present = new Set(tables.map((row) => `${row["db"]}.${row["name"]}`));
  return {
    rows,
    table(service, table) {
      const db = databases[service];
      return db !== undefined && present.has(`${db}.${table}`) ? `\`${db}\`.\`${table}\`` : undefined;
    },
    async each(count, sql, params, describe) {
      for (const row of await rows(sql, params)) flag(count, describe(row));
    },
  };
}

/** Acknowledged orders by lower-cased id; a checkout acknowledged twice counts as paid if either time was. */
function acknowledgedById(input: InvariantInput): Map<string, CheckoutRecord> {
  const byId = new Map<string, CheckoutRecord>();
  for (const record of input.acknowledged) {
    const id = record.orderId.toLowerCase();
    const seen = byId.get(id);
    byId.set(id, { ...record, paid: record.paid || (seen?.paid ?? false) });
  }
  return byId;
}

/**
 * Reservations the saga should already have settled: stock held for an order that is PAID+
 * (commit), cancelled or failed (release), or past its expiry plus the sweeper's grace (also
 * covers reservations whose order row never got written); and sold stock of a cancelled order
 * that was never returned.
 */
function unsettledReservations(db: Db): { sql: string; params: unknown[] } | undefined {
  const reservations = db.table("inventory", "reservations");
  const orders = db.table("order", "orders");
  if (!reservations || !orders) return undefined;
  return {
    sql: `SELECT r.order_id, r.state, o.status FROM ${reservations} r LEFT JOIN ${orders} o ON o.id = r.order_id
      WHERE (r.state = 'ACTIVE' AND (o.status IN (?) OR r.expires_at < ?)) OR (r.state = 'COMMITTED' AND o.status = 'CANCELLED')`,
    params: [[...PAID_OR_LATER, "CANCELLED", "PAYMENT_FAILED"], new Date(Date.now() - SWEEP_GRACE_MS)],
  };
}

/** Returns how many paid orders were cancelled and refunded in full (a late payment's outcome). */
async function checkOrders(db: Db, input: InvariantInput, flag: Flag): Promise<number> {
  const orders = db.table("order", "orders");
  if (!orders) return 0;
  let refundedAfterCancel = 0;
  const rows = await db.rows(`SELECT id, user_id, status, payment_status, cancel_reason FROM ${orders}`);
  const byId = new Map(rows.map((row) => [String(row["id"]).toLowerCase(), row]));
  for (const [id, record] of acknowledgedById(input)) {
    const row = byId.get(id);
    const status = String(row?.["status"]);
    // An "unpaid" client may have confirmed and lost only the answer: PAID is fine when order saw the capture.
    const refunded = status === "CANCELLED" && row?.["payment_status"] === "REFUNDED";
    if (record.paid && refunded) refundedAfterCancel++;
    const fits = record.paid
      ? PAID_OR_LATER.includes(status) || refunded
      : UNPAID_STATES.includes(status) || (PAID_OR_LATER.includes(status) && CAPTURED.includes(String(row?.["payment_status"])));
    if (!row) flag("lost", `acknowledged order ${id} has no row`);
    else if (String(row["user_id"]).toLowerCase() !== record.userId.toLowerCase())
      flag("lost", `order ${id} belongs to ${row["user_id"]}, not ${record.userId}`);
    else if (!fits) flag("lost", `${record.paid ? "paid" : "unpaid"} order ${id} is ${status}${row["cancel_reason"] ? ` (${row["cancel_reason"]})` : ""}`);
  }
  // orders_idempotency is UNIQUE, so this fires only if the schema or the id derivation changed.
  const twice = `SELECT user_id, idempotency_key, COUNT(*) AS n FROM ${orders} GROUP BY user_id, idempotency_key HAVING n > 1`;
  await db.each("duplicated", twice, [], (row) => `${row["n"]} orders for user ${row["user_id"]}, key ${row["idempotency_key"]}`);
  return refundedAfterCancel;
}

async function checkPayments(db: Db, flag: Flag): Promise<void> {
  const [payments, ledger, refunds] = ["payments", "ledger_entries", "refunds"].map((table) => db.table("payment", table));
  if (!payments || !ledger || !refunds) return;
  // payments_order is UNIQUE: the schema allows no retried payment, so any second row is a duplicate.
  const perOrder = `SELECT order_id, COUNT(*) AS n FROM ${payments} GROUP BY order_id HAVING n > 1`;
  await db.each("duplicated", perOrder, [], (row) => `${row["n"]} payments for order ${row["order_id"]}`);
  // There is no capture table: a capture is a ledger group with movement 'capture' (one per SUCCEEDED webhook).
  const captures = `SELECT p.order_id, COUNT(DISTINCT l.entry_group_id) AS n FROM ${ledger} l JOIN ${payments} p ON p.id = l.payment_id
    WHERE l.movement = 'capture' GROUP BY p.order_id HAVING n > 1`;
  for (const row of await db.rows(captures)) {
    flag("doubleCharged", `order ${row["order_id"]} captured ${row["n"]} times`);
    flag("duplicated", `${row["n"]} capture groups for order ${row["order_id"]}`);
  }
  const perCause = `SELECT provider_event_id, COUNT(DISTINCT entry_group_id) AS n FROM ${ledger} WHERE provider_event_id IS NOT NULL GROUP BY provider_event_id HAVING n > 1`;
  await db.each("duplicated", perCause, [], (row) => `provider event ${row["provider_event_id"]} booked ${row["n"]} times`);
  // Each SUCCEEDED refund books one refund group (its debit is the amount); more means a refund applied twice.
  const refundBooks = `SELECT * FROM (SELECT p.order_id, p.refunded_minor AS refunded,
      (SELECT COUNT(DISTINCT l.entry_group_id) FROM ${ledger} l WHERE l.payment_id = p.id AND l.movement = 'refund') AS refund_groups,
      (SELECT COALESCE(SUM(l.amount_minor), 0) FROM ${ledger} l WHERE l.payment_id = p.id AND l.movement = 'refund' AND l.amount_minor > 0) AS booked,
      (SELECT COUNT(*) FROM ${refunds} r WHERE r.payment_id = p.id AND r.status = 'SUCCEEDED') AS succeeded
    FROM ${payments} p) AS x WHERE refund_groups > succeeded OR booked > refunded`;
  const describeRefunds = (row: Row) =>
    `order ${row["order_id"]}: ${row["refund_groups"]} refund groups, ${row["succeeded"]} refunds, ${row["booked"]} of ${row["refunded"]} booked`;
  await db.each("duplicated", refundBooks, [], describeRefunds);
  for (const key of ["entry_group_id", "payment_id"]) {
    const unbalanced = `SELECT ${key} AS id, SUM(amount_minor) AS total FROM ${ledger} GROUP BY ${key} HAVING total <> 0`;
    await db.each("ledgerImbalance", unbalanced, [], (row) => `ledger ${key} ${row["id"]} sums to ${row["total"]}`);
  }
  const [overall] = await db.rows(`SELECT COALESCE(SUM(amount_minor), 0) AS total FROM ${ledger}`);
  if (String(overall?.["total"]) !== "0") flag("ledgerImbalance", `the whole ledger sums to ${overall?.["total"]}`);
}

async function checkStock(db: Db, input: InvariantInput, flag: Flag): Promise<void> {
  const initial = new Map(Object.entries(input.initialStock).map(([id, units]) => [id.toLowerCase(), units]));
  const [levels, reservations, items] = ["stock_levels", "reservations", "reservation_items"].map((table) => db.table("inventory", table));
  const [orders, lines] = ["orders", "order_lines"].map((table) => db.table("order", table));
  if (levels) {
    const impossible = `SELECT product_id, on_hand, reserved FROM ${levels} WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand`;
    await db.each("oversold", impossible, [], (row) => `product ${row["product_id"]}: on_hand ${row["on_hand"]}, reserved ${row["reserved"]}`);
  }
  if (levels && reservations && items) {
    // Units leave on_hand only by commit and come back only by return, so (no restock during the run)
    // on_hand = initial - COMMITTED units and reserved = ACTIVE units; a difference is a step applied twice or lost.
    const books = `SELECT s.product_id, s.on_hand, s.reserved,
        COALESCE(SUM(CASE WHEN r.state = 'COMMITTED' THEN i.quantity END), 0) AS committed,
        COALESCE(SUM(CASE WHEN r.state = 'ACTIVE' THEN i.quantity END), 0) AS held
      FROM ${levels} s LEFT JOIN ${items} i ON i.product_id = s.product_id LEFT JOIN ${reservations} r ON r.order_id = i.order_id
      GROUP BY s.product_id, s.on_hand, s.reserved`;
    for (const row of await db.rows(books)) {
      const product = String(row["product_id"]);
      const start = initial.get(product.toLowerCase());
      if (start === undefined) continue;
      const [onHand, reserved, committed, held] = ["on_hand", "reserved", "committed", "held"].map((column) => Number(row[column]));
      if (committed > start) flag("oversold", `product ${product}: ${committed} units committed, ${start} stocked`);
      if (onHand !== start - committed || reserved !== held) {
        flag("duplicated", `product ${product}: on_hand ${onHand}/reserved ${reserved}, reservations say ${start - committed}/${held}`);
      }
    }
  }
  if (orders && lines) {
    // What order considers sold, independent of inventory's bookkeeping.
    const sold = `SELECT l.product_id, SUM(l.quantity) AS sold FROM ${lines} l JOIN ${orders} o ON o.id = l.order_id WHERE o.status IN (?) GROUP BY l.product_id`;
    for (const row of await db.rows(sold, [PAID_OR_LATER])) {
      const start = initial.get(String(row["product_id"]).toLowerCase());
      if (start !== undefined && Number(row["sold"]) > start)
        flag("oversold", `product ${row["product_id"]}: ${row["sold"]} units in paid orders, ${start} stocked`);
    }
  }
  if (orders && reservations) {
    // A paid order whose stock was released, expired or returned was sold without stock behind it.
    const unbacked = `SELECT o.id, o.status, r.state FROM ${orders} o LEFT JOIN ${reservations} r ON r.order_id = o.id
      WHERE o.status IN (?) AND (r.state IS NULL OR r.state NOT IN ('ACTIVE', 'COMMITTED'))`;
    await db.each("oversold", unbacked, [PAID_OR_LATER], (row) => `${row["status"]} order ${row["id"]} has reservation ${row["state"] ?? "none"}`);
  }
  const unsettled = unsettledReservations(db);
  const describeLeak = (row: Row) => `reservation ${row["order_id"]} is ${row["state"]} for an order ${row["status"] ?? "missing"}`;
  if (unsettled) await db.each("leakedReservations", unsettled.sql, unsettled.params, describeLeak);
}

async function checkRepeats(db: Db): Promise<void> {
  for (const [service, types] of Object.entries(ONCE_PER_ORDER_EVENTS)) {
    const outbox = db.table(service, "outbox");
    const repeats = `SELECT event_type, event_key, COUNT(*) AS n FROM ${outbox} WHERE event_type IN (?) GROUP BY event_type, event_key HAVING n > 1`;
    const eventTypes = types.map((type) => `shopmesh.events.v1.${type}`);
    if (outbox) await db.each("duplicated", repeats, [eventTypes], (row) => `${service} wrote ${row["event_type"]} ${row["n"]} times for ${row["event_key"]}`);
  }
  // deliveries_order is UNIQUE; the DeliveryAssigned repeat above is the check that can fire.
  const deliveries = db.table("delivery", "deliveries");
  const perOrder = `SELECT order_id, COUNT(*) AS n FROM ${deliveries} GROUP BY order_id HAVING n > 1`;
  if (deliveries) await db.each("duplicated", perOrder, [], (row) => `${row["n"]} deliveries for order ${row["order_id"]}`);
  // The order id lives only inside the notification's JSON data.
  const notifications = db.table("notification", "notifications");
  const emails = `SELECT template_key, JSON_UNQUOTE(JSON_EXTRACT(data, '$.order_id')) AS order_id, COUNT(*) AS n FROM ${notifications}
    WHERE template_key IN (?) GROUP BY template_key, order_id HAVING n > 1`;
  if (notifications)
    await db.each("duplicated", emails, [ONCE_PER_ORDER_TEMPLATES], (row) => `${row["n"]} "${row["template_key"]}" emails for order ${row["order_id"]}`);
}

/** All counts zero: the checker's starting point, and the totals before the first fault. */
export function emptyReport(): InvariantReport {
  return { lost: 0, duplicated: 0, oversold: 0, doubleCharged: 0, ledgerImbalance: 0, leakedReservations: 0, refundedAfterCancel: 0, details: [] };
}

export async function checkInvariants(input: InvariantInput): Promise<InvariantReport> {
  const report = emptyReport();
  const flag: Flag = (count, line) => {
    report[count]++;
    if (report.details.length < 50) report.details.push(`${count}: ${line}`);
  };
  const pool = openPool(input.databases);
  try {
    const db = await openDb(pool, input.databases, flag);
    report.refundedAfterCancel = await checkOrders(db, input, flag);
    await checkPayments(db, flag);
    await checkStock(db, input, flag);
    await checkRepeats(db);
  } finally {
    await pool.end();
  }
  return report;
}

const MAILPIT = `http://127.0.0.1:${process.env["MAILPIT_UI_PORT"] ?? 8025}`;

/**
 * Emails Mailpit received more than once for these checkouts' customers (one message, by
 * Message-ID, stored twice). Not a broken guarantee but a measured one: a sender that crashes
 * after the SMTP server accepted a message and before it recorded the send sends it again
 * (at-least-once, like any mail queue; the repeated Message-ID lets a receiver drop it).
 * Counted per fault, for its own customers: Mailpit keeps only its newest messages.
 */
export async function countEmailsDeliveredTwice(records: CheckoutRecord[]): Promise<number> {
  const recipients = new Set(records.map((record) => record.email));
  // Mailpit's own ID is per stored copy; pages shift as mail arrives, so a copy can show twice.
  const copies = new Map<string, Set<string>>();
  const pageSize = 500;
  for (let start = 0; ; start += pageSize) {
    const response = await fetch(`${MAILPIT}/api/v1/messages?start=${start}&limit=${pageSize}`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`Mailpit answered ${response.status}`);
    const page = (await response.json()) as { messages: Array<{ ID: string; MessageID: string; To: Array<{ Address: string }> | null }> };
    for (const message of page.messages) {
      if (!message.To?.some(({ Address }) => recipients.has(Address))) continue;
      const stored = copies.get(message.MessageID) ?? new Set<string>();
      stored.add(message.ID);
      copies.set(message.MessageID, stored);
    }
    if (page.messages.length < pageSize) break;
  }
  return [...copies.values()].reduce((repeats, stored) => repeats + stored.size - 1, 0);
}

/** Work the saga still has to do by itself: how many rows, and a line saying what. */
export interface PendingWork {
  count: number;
  line: string;
}

/** What the saga still has to do by itself; empty when the system is quiet. */
async function pendingWork(db: Db, input: InvariantInput): Promise<PendingWork[]> {
  const pending: PendingWork[] = [];
  const note = (rows: Row[], what: string, idColumn: string) => {
    if (rows.length > 0) pending.push({ count: rows.length, line: `${rows.length} ${what} (e.g. ${rows[0]?.[idColumn]})` });
  };
  for (const service of Object.keys(input.databases)) {
    const outbox = db.table(service, "outbox");
    if (outbox) note(await db.rows(`SELECT id FROM ${outbox} WHERE published_at IS NULL LIMIT 1000`), `(up to 1000) unpublished ${service} outbox rows`, "id");
  }
  const notifications = db.table("notification", "notifications");
  if (notifications)
    note(await db.rows(`SELECT id FROM ${notifications} WHERE status IN ('QUEUED', 'FAILED') LIMIT 1000`), "(up to 1000) emails not yet sent", "id");
  const orders = db.table("order", "orders");
  const paidIds = [...acknowledgedById(input)].filter(([, record]) => record.paid).map(([id]) => id);
  if (orders && paidIds.length > 0)
    note(await db.rows(`SELECT id FROM ${orders} WHERE status = 'PENDING' AND id IN (?)`, [paidIds]), "paid orders still PENDING", "id");
  const unsettled = unsettledReservations(db);
  if (unsettled) note(await db.rows(unsettled.sql, unsettled.params), "reservations not yet committed, released or returned", "order_id");
  const [payments, refunds] = ["payments", "refunds"].map((table) => db.table("payment", table));
  if (payments && refunds) {
    const unconfirmed = `SELECT p.order_id FROM ${refunds} r JOIN ${payments} p ON p.id = r.payment_id WHERE r.status = 'REQUESTED'`;
    note(await db.rows(unconfirmed), "refunds not yet confirmed by the provider", "order_id");
    const awaitingProvider = `SELECT order_id FROM ${payments}
      WHERE status = 'PROCESSING' OR (status = 'REQUIRES_CONFIRMATION' AND order_cancelled_at IS NOT NULL AND provider_intent_id IS NOT NULL)`;
    note(await db.rows(awaitingProvider), "payments awaiting the provider", "order_id");
  }
  if (payments && orders) {
    // order learns payment outcomes, and payment learns cancellations, from events: a mismatch is a consumer behind.
    const behind = `SELECT p.order_id FROM ${payments} p JOIN ${orders} o ON o.id = p.order_id
      WHERE (p.status IN (?) AND NOT (o.payment_status <=> p.status)) OR (o.status = 'CANCELLED' AND p.order_cancelled_at IS NULL)`;
    note(await db.rows(behind, [[...CAPTURED, "FAILED"]]), "payment outcomes or cancellations not yet seen across order/payment", "order_id");
  }
  return pending;
}

/**
 * Polls until the saga has nothing left to do by itself, or `timeoutMs` passes. Returns what
 * was still pending then: empty when quiet. Work still pending past the bound is an order that
 * never reached its expected state, which the caller counts as lost.
 */
export async function waitUntilQuiet(input: InvariantInput, timeoutMs: number): Promise<PendingWork[]> {
  const started = Date.now();
  const pool = openPool(input.databases);
  try {
    for (;;) {
      let pending: PendingWork[];
      try {
        // Reopened each poll: tables may appear late, and a recovering server may refuse a query.
        pending = await pendingWork(await openDb(pool, input.databases), input);
      } catch (err) {
        pending = [{ count: 1, line: `query failed: ${err instanceof Error ? err.message : String(err)}` }];
      }
      if (pending.length === 0 || Date.now() - started >= timeoutMs) return pending;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await pool.end();
  }
}
