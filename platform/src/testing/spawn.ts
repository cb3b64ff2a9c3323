import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface SpawnedService {
  name: string;
  port: number;
  process: ChildProcess;
  /** Everything the process logged, for assertions and for failure messages. */
  output: string[];
  /** SIGTERM and wait for a graceful exit (SIGKILL after `timeoutMs`). Resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: a crash, for tests of what survives one. */
  kill(): Promise<void>;
}

/**
 * Starts a real service process from its build (`services/<name>/dist/main.js`), the way
 * `npm start` does, on a free port. Resolves when it logs that it is listening. Used by
 * tests that cross service boundaries without importing another service's source.
 */
/**
 * How a service process runs with OpenTelemetry as `npm start` runs it: the SDK preloaded,
 * spans flushed every 500 ms, under `name`. `env` adds to it (an endpoint, a sampler).
 */
export function tracedLaunch(name: string, env: Record<string, string> = {}): { env: Record<string, string>; nodeArgs: string[] } {
  return {
    env: { OTEL_SDK_DISABLED: "false", OTEL_SERVICE_NAME: name, OTEL_BSP_SCHEDULE_DELAY: "500", ...env },
    nodeArgs: ["--import", "@shopmesh/platform/telemetry"],
  };
}

export async function spawnService(
  name: string,
  env: Record<string, string> = {},
  options: {
    timeoutMs?: number;
    /** Port variable when it is not `<NAME>_PORT` (the manifest's `portEnv`). */
    portEnv?: string;
    /**
     * Start it as `npm start` does, with OpenTelemetry preloaded and exporting to the local
     * Jaeger (spans flushed every 500 ms). Off by default: most tests do not look at traces.
     */
    telemetry?: boolean;
  } = {},
): Promise<SpawnedService> {
  const main = join(REPO_ROOT, "services", name, "dist", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const portEnv = options.portEnv ?? `${name.toUpperCase()}_PORT`;
  const traced = options.telemetry ? tracedLaunch(name) : { env: { OTEL_SDK_DISABLED: "true" }, nodeArgs: [] };
  const telemetryEnv = traced.env;
  const preload = traced.nodeArgs;
  const child = spawn(process.execPath, ["--enable-source-maps", ...preload, main], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", NODE_ENV: "test", [portEnv]: "0", ...telemetryEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Nobody gets a handle on a process that never listened: end it here or it outlives the test.
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${options.timeoutMs ?? 30_000} ms:\n${output.slice(-30).join("\n")}`));
    }, options.timeoutMs ?? 30_000);
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('"listening')) return;
      try {
        const entry = JSON.parse(line) as { port?: number };
        if (entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a JSON log line
      }
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${output.slice(-30).join("\n")}`));
    });
  });
  return {
    name,
    port,
    process: child,
    output,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A port that is free right now, for processes that must know each other's addresses before
 * they start (the payment service and the provider simulator call each other).
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  // Below Linux's ephemeral range (32768+): a port handed out here is not taken in the meantime
  // by an outgoing connection or another server binding port 0 before its process starts.
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(candidate, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
}
