import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import { platformMetrics } from "../metrics.js";

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
  platformMetrics.trackPool(options.database, () => poolUsage(pool, options.poolSize));
  return pool;
}

/** mysql2 keeps its pool's state in private fields; read them defensively for the pool metrics. */
interface PoolInternals {
  _closed?: boolean;
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

function poolUsage(pool: Pool, max: number) {
  const internals = (pool as unknown as { pool: PoolInternals }).pool;
  if (!internals || internals._closed) return undefined;
  return {
    max,
    open: internals._allConnections?.length ?? 0,
    idle: internals._freeConnections?.length ?? 0,
    waiting: internals._connectionQueue?.length ?? 0,
  };
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
