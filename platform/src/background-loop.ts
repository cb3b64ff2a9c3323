import type { Logger } from "./logger.js";
import { outsideTrace } from "./telemetry/spans.js";

export interface BackgroundLoop {
  /** Runs a round every interval (the first one interval from now, or sooner when nudged). */
  start(): void;
  /** Runs a round soon (after a commit that left work) instead of waiting for the interval. */
  nudge(): void;
  /** Finishes the round in hand, then stops. */
  stop(): Promise<void>;
}

/**
 * A loop that works off what a service's own tables say is pending (provider calls, retries):
 * `round` runs `intervalMs` after start and after the previous round ended, and at once when
 * nudged; a nudge during a round runs one more right after it, so work recorded meanwhile is
 * not left for the next interval. Rounds never overlap, run outside any request's trace, and a
 * round that throws is logged and retried on the next tick.
 */
export function createBackgroundLoop(options: { name: string; intervalMs: number; logger: Logger; round: () => Promise<unknown> }): BackgroundLoop {
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let running = false;
  let again = false;
  let pending: Promise<unknown> = Promise.resolve();

  async function tick(): Promise<void> {
    if (stopped || running) return;
    running = true;
    try {
      do {
        again = false;
        await options.round();
      } while (again && !stopped);
    } catch (err) {
      logger.warn({ err, loop: options.name }, "background round failed; will retry");
    } finally {
      running = false;
      if (!stopped) timer = setTimeout(() => void (pending = outsideTrace(tick)), options.intervalMs);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(() => void (pending = outsideTrace(tick)), options.intervalMs);
    },
    nudge() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      clearTimeout(timer);
      pending = outsideTrace(tick);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pending.catch(() => undefined);
    },
  };
}
