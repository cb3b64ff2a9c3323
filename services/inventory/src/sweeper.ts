import type { Logger } from "@shopmesh/platform";
import type { Inventory } from "./inventory.js";

export interface ReservationSweeper {
  start(): void;
  /** Finishes the sweep in hand, then stops. */
  stop(): Promise<void>;
  /** Expires everything due now; resolves with the number of reservations expired. */
  sweepOnce(): Promise<number>;
}

/**
 * Releases expired reservations on an interval, in batches. Every replica runs one; the
 * sweep's SKIP LOCKED claim keeps them from waiting on or repeating each other's work.
 */
export function createReservationSweeper(options: { inventory: Inventory; logger: Logger; intervalMs: number; batchSize: number }): ReservationSweeper {
  const { inventory, logger, intervalMs, batchSize } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let pending: Promise<unknown> = Promise.resolve();

  async function sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await inventory.expireDue(batchSize);
      total += expired;
      if (expired < batchSize) return total;
    }
  }

  async function tick(): Promise<void> {
    try {
      const expired = await sweepOnce();
      if (expired > 0) logger.info({ expired }, "expired reservations released");
    } catch (err) {
      logger.warn({ err }, "reservation sweep failed; will retry");
    } finally {
      if (!stopped) timer = setTimeout(() => void (pending = tick()), intervalMs);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(() => void (pending = tick()), intervalMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pending.catch(() => undefined);
    },
    sweepOnce,
  };
}
