import type { Logger } from "./logger.js";
import { ConfigError } from "./config.js";
import type { RpcServer } from "./rpc/server.js";
import { shutdownTelemetry } from "./telemetry/sdk.js";

export interface ShutdownPlan {
  logger: Logger;
  server: RpcServer;
  graceMs: number;
  /** Closed in order after the server has drained (consumers first, pools last). */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

/**
 * SIGTERM/SIGINT: health flips to NOT_SERVING, the port stops accepting, in-flight RPCs get
 * `graceMs` to finish, then consumers, relays and pools close in the order given.
 */
export function handleShutdownSignals(plan: ShutdownPlan): void {
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) return;
    started = true;
    plan.logger.info({ signal }, "shutting down");
    const hardStop = setTimeout(() => {
      plan.logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, plan.graceMs + 15_000);
    hardStop.unref();
    await plan.server.shutdown(plan.graceMs);
    for (const closer of plan.closers) {
      try {
        await closer.close();
      } catch (err) {
        plan.logger.warn({ err, resource: closer.name }, "close failed");
      }
    }
    await shutdownTelemetry();
    plan.logger.info("stopped");
    process.exitCode = 0;
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

/**
 * Runs a service's start function; a configuration error or a failed start is printed
 * plainly and ends the process with a non-zero code rather than leaving it half-running.
 */
export function runMain(start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  });
}
