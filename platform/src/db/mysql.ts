import { tracingChannel } from "node:diagnostics_channel";
import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import { platformMetrics, type PoolUsage } from "../metrics.js";

export type { Pool, PoolConnection, RowDataPacket, ResultSetHeader } from "mysql2/promise";

export interface MysqlOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The service's own database (`shopmesh_<service>`); created if missing. */
  database: string;
  poolSize: number;
}

/** Creates the service's database when absent, then a pool bound to it. */
export async function createMysqlPool(options: MysqlOptions): Promise<Pool> {
  if (!/^[a-z0-9_]+$/.test(options.database)) throw new Error(`unsafe database name ${options.database}`);
  const admin = await mysql.createConnection({ host: options.host, port: options.port, user: options.user, password: options.password, connectTimeout: 5_000 });
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${options.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  const pool = mysql.createPool({
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    database: options.database,
    connectionLimit: options.poolSize,
    waitForConnections: true,
    queueLimit: 0,
    connectTimeout: 5_000,
    enableKeepAlive: true,
    timezone: "Z",
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    namedPlaceholders: false,
  });
  platformMetrics.trackPool(options.database, countPoolUsage(pool, options.database, options.poolSize));
  return pool;
}

/**
 * A pool's usage from mysql2's public API, which has no statistics call: connections are
 * counted from the pool's events ('connection', 'acquire', 'release') and each connection's
 * own 'end' and 'error'; callers waiting for a connection from mysql2's tracing channel.
 */
function countPoolUsage(pool: Pool, database: string, max: number): () => PoolUsage {
  const open = new Set<object>();
  const inUse = new Set<object>();
  pool.on("connection", (connection) => {
    open.add(connection);
    const closed = () => {
      open.delete(connection);
      inUse.delete(connection);
    };
    connection.once("end", closed);
    connection.once("error", closed);
  });
  pool.on("acquire", (connection) => {
    if (open.has(connection)) inUse.add(connection);
  });
  pool.on("release", (connection) => inUse.delete(connection));
  countWaitingCallers();
  return () => ({ max, open: open.size, idle: open.size - inUse.size, waiting: waitingCallers.get(database) ?? 0 });
}

/** Callers between asking a pool of this database for a connection and getting it (or an error), process-wide. */
const waitingCallers = new Map<string, number>();
let countingWaitingCallers = false;

// mysql2 publishes every pool.getConnection (pool.query and pool.execute included) on this
// channel: `start` when it is asked for, `asyncStart` when the connection or error is handed back.
function countWaitingCallers(): void {
  if (countingWaitingCallers) return;
  countingWaitingCallers = true;
  const change = ({ database }: { database: string }, by: number) => waitingCallers.set(database, (waitingCallers.get(database) ?? 0) + by);
  tracingChannel<unknown, { database: string }>("mysql2:pool:connect").subscribe({
    start: (context) => change(context, 1),
    asyncStart: (context) => change(context, -1),
    end: () => undefined,
    asyncEnd: () => undefined,
    error: () => undefined,
  });
}

/** InnoDB picked the transaction as a deadlock victim: it was rolled back whole and can rerun. */
export function isDeadlock(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "ER_LOCK_DEADLOCK";
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_LOCK_WAIT_TIMEOUT",
]);

/**
 * The database is away or overloaded (refused, reset, timed out, lost mid-query), as opposed
 * to refusing this statement: the same work succeeds once it is back, so callers that must
 * not give up (an event consumer) wait for it rather than count it against the work.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { code, fatal, message } = err as { code?: string; fatal?: boolean; message?: string };
  return fatal === true || (code !== undefined && UNREACHABLE_CODES.has(code)) || /connection is in closed state/i.test(message ?? "");
}

// Locks are taken in a fixed order where the code can choose it, but gap and foreign-key locks
// can still collide; a victim reruns from the start, a few times, briefly apart.
const rerunDeadlockVictims = retry(handleWhen(isDeadlock), {
  maxAttempts: 3,
  backoff: new ExponentialBackoff({ initialDelay: 5, maxDelay: 50 }),
});

/**
 * Runs `work` in one transaction on one connection: committed if it resolves, rolled
 * back if it throws. State changes and their outbox rows go through here together. A
 * deadlock victim is rerun from the start (its writes were all rolled back), so `work` must
 * do nothing but SQL on `connection`, which is the rule for a transaction here anyway.
 */
export async function withTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  return rerunDeadlockVictims.execute(() => inOneTransaction(pool, work));
}

async function inOneTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (err) {
    await connection.rollback().catch(() => undefined);
    throw err;
  } finally {
    connection.release();
  }
}

/** MySQL duplicate-key error, for turning unique violations into ALREADY_EXISTS. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "ER_DUP_ENTRY";
}

export async function pingMysql(pool: Pool): Promise<void> {
  await pool.query("SELECT 1");
}
