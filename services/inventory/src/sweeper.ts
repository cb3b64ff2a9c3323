import { createBackgroundLoop, type Logger } from "@shopmesh/platform";
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

  async function sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await inventory.expireDue(batchSize);
      total += expired;
      if (expired < batchSize) return total;
    }
  }

  const loop = createBackgroundLoop({
    name: "reservation sweep",
    intervalMs,
    logger,
    round: async () => {
      const expired = await sweepOnce();
      if (expired > 0) logger.info({ expired }, "expired reservations released");
    },
  });
  return { start: () => loop.start(), stop: () => loop.stop(), sweepOnce };
}
