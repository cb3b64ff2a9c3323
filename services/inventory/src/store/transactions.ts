import { withTransaction, type Pool, type PoolConnection } from "@shopmesh/platform";

/** InnoDB picked this transaction as a deadlock victim; it was rolled back whole and can rerun. */
function isDeadlock(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "ER_LOCK_DEADLOCK";
}

/**
 * Runs `work` in one transaction and reruns it from the start when InnoDB reports a deadlock.
 * Rows are locked in product-id order so deadlocks are rare, but gap and foreign-key locks can
 * still collide; a rerun is always safe because the victim's writes were all rolled back.
 */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>, maxAttempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(pool, work);
    } catch (err) {
      if (!isDeadlock(err) || attempt >= maxAttempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}
