import type { Logger } from "@shopmesh/platform";
import type { Deliveries } from "./deliveries.js";

export interface AssignmentRetrier {
  start(): void;
  /** Runs a pass soon (a partner was created or changed); coalesces with one in progress. */
  nudge(): void;
  /** Finishes the pass in hand, then stops. */
  stop(): Promise<void>;
  /** One pass now; resolves with how many deliveries were assigned. */
  retryOnce(): Promise<number>;
}

/**
 * Retries assignment of paid deliveries that found no partner, on an interval and whenever
 * partners change. Every replica runs one; claims use SKIP LOCKED, so they do not wait on or
 * repeat each other's work.
 */
export function createAssignmentRetrier(options: { deliveries: Deliveries; logger: Logger; intervalMs: number; batchSize: number }): AssignmentRetrier {
  const { deliveries, logger, intervalMs, batchSize } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let running = false;
  let again = false;
  let pending: Promise<unknown> = Promise.resolve();

  const retryOnce = () => deliveries.retryUnassigned(batchSize);

  async function tick(): Promise<void> {
    running = true;
    try {
      do {
        again = false;
        const assigned = await retryOnce();
        if (assigned > 0) logger.info({ assigned }, "waiting deliveries assigned");
      } while (again && !stopped);
    } catch (err) {
      logger.warn({ err }, "assignment retry failed; will retry");
    } finally {
      running = false;
      if (!stopped) timer = setTimeout(() => void (pending = tick()), intervalMs);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(() => void (pending = tick()), intervalMs);
    },
    nudge() {
      if (stopped) return;
      // A pass already running may have read the partners before the change: run once more.
      if (running) {
        again = true;
        return;
      }
      clearTimeout(timer);
      pending = tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pending.catch(() => undefined);
    },
    retryOnce,
  };
}
