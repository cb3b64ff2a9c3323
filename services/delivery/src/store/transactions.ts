import { withTransaction, type Pool, type PoolConnection } from "@shopmesh/platform";

/** InnoDB picked this transaction as a deadlock victim; it was rolled back whole and can rerun. */
function isDeadlock(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "ER_LOCK_DEADLOCK";
}

/**
 * Runs `work` in one transaction and reruns it from the start when InnoDB reports a deadlock.
 * Partners are locked in id order, but a delivery row and its partners are locked by
 * different paths (status updates, deletes), so a rare deadlock is still possible; a rerun is
 * safe because the victim's writes were all rolled back.
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
