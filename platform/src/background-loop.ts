import type { Logger } from "./logger.js";
import { outsideTrace } from "./telemetry/spans.js";

export interface BackgroundLoop {
  /** Starts the loop: the first round runs at once or one interval from now (`runOnStart`). */
  start(): void;
  /** Runs a round soon (after a commit that left work) instead of waiting for the interval. */
  nudge(): void;
  /** Aborts the round's signal, waits for the round in hand to finish, then stops. */
  stop(): Promise<void>;
}

export interface BackgroundLoopOptions {
  /** Names the loop in logs. */
  name: string;
  /** Time between the end of one round and the start of the next when nobody nudges. */
  intervalMs: number;
  logger: Logger;
  /**
   * One pass over the pending work. Resolving `true` says more may be waiting (a full batch),
   * so the next round starts at once. `signal` aborts when the loop stops.
   */
  round: (signal: AbortSignal) => Promise<void | boolean>;
  /** Run the first round at start instead of one interval later. Default false. */
  runOnStart?: boolean;
  /** The longest wait after rounds that keep failing (the interval doubles per failure). Default max(intervalMs, 5 s). */
  maxBackoffMs?: number;
  /** Called with a round's error after it is logged (metrics, dropping a broken connection). */
  onError?: (err: unknown) => void;
}

/**
 * The one "work, then sleep until the interval passes or someone nudges" loop of the mesh
 * (outbox relays, sweepers, retriers, workers). Rounds never overlap and run outside any
 * request's trace. A nudge is never lost: one that arrives during a round runs another round
 * right after it, since that round may have read its work before the nudge's commit. A round
 * that throws is logged and the wait before the next one doubles, up to `maxBackoffMs`.
 */
export function createBackgroundLoop(options: BackgroundLoopOptions): BackgroundLoop {
  const { logger, intervalMs } = options;
  const maxBackoffMs = options.maxBackoffMs ?? Math.max(intervalMs, 5_000);
  let timer: NodeJS.Timeout | undefined;
  let stopping: AbortController | undefined;
  let running = false;
  let nudgedDuringRound = false;
  let failures = 0;
  let pending: Promise<void> = Promise.resolve();

  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => void (pending = outsideTrace(tick)), delayMs);
  };

  async function tick(): Promise<void> {
    const signal = stopping?.signal;
    if (!signal || signal.aborted || running) return;
    running = true;
    nudgedDuringRound = false;
    let more = false;
    try {
      more = (await options.round(signal)) === true;
      failures = 0;
    } catch (err) {
      failures++;
      logger.warn({ err, loop: options.name, failures }, `${options.name} round failed; will retry`);
      options.onError?.(err);
    } finally {
      running = false;
    }
    if (signal.aborted) return;
    if (more || nudgedDuringRound) schedule(0);
    else schedule(failures === 0 ? intervalMs : Math.min(maxBackoffMs, intervalMs * 2 ** failures));
  }

  return {
    start() {
      if (stopping && !stopping.signal.aborted) return;
      stopping = new AbortController();
      failures = 0;
      if (options.runOnStart) pending = outsideTrace(tick);
      else schedule(intervalMs);
    },
    nudge() {
      if (!stopping || stopping.signal.aborted) return;
      if (running) {
        nudgedDuringRound = true;
        return;
      }
      clearTimeout(timer);
      pending = outsideTrace(tick);
    },
    async stop() {
      stopping?.abort();
      clearTimeout(timer);
      await pending;
    },
  };
}

/** A sleep that a nudge cuts short; for loops that cannot be a BackgroundLoop (a streaming handler). */
export interface Wakeup {
  /** Ends the current wait, or the next one at once when nobody is waiting: a nudge is never lost. */
  nudge(): void;
  /** Resolves after `ms`, at a nudge or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
}

export function createWakeup(): Wakeup {
  let nudged = false;
  let wake: (() => void) | undefined;
  return {
    nudge() {
      nudged = true;
      wake?.();
    },
    wait(ms, signal) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          wake = undefined;
          nudged = false;
          resolve();
        };
        // Unreferenced: a watcher waiting on its stream must not hold the process open.
        const timer = setTimeout(done, ms).unref();
        if (nudged || signal?.aborted) return done();
        wake = done;
        signal?.addEventListener("abort", done, { once: true });
      });
    },
  };
}
