import { createBackgroundLoop, type BackgroundLoop, type Logger } from "@shopmesh/platform";
import type { Deliveries } from "./deliveries.js";

/** `nudge()` runs a pass soon (a partner was created or changed); it coalesces with one in progress. */
export interface AssignmentRetrier extends BackgroundLoop {
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
  const retryOnce = () => deliveries.retryUnassigned(batchSize);
  // A nudge during a pass runs one more: that pass may have read the partners before the change.
  const loop = createBackgroundLoop({
    name: "assignment retrier",
    intervalMs,
    logger,
    round: async () => {
      const assigned = await retryOnce();
      if (assigned > 0) logger.info({ assigned }, "waiting deliveries assigned");
    },
  });
  return { ...loop, retryOnce };
}
