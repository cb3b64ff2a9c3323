// Processes the benchmark starts and what it reads about them from /proc: CPU time
// (utime + stime) and resident memory. Everything here runs on loopback and ends with the run.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident set size in MiB; 0 once the process is gone. */
export function rssMiB(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The pid of a shared infrastructure process: from the pid file `scripts/infra/up.sh` writes
 * (`.shopmesh/run/<name>.pid`), else the oldest process whose command line matches `pattern`.
 * Undefined when neither finds a live process.
 */
export function infraPid(name, pattern) {
  const alive = (pid) => Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`);
  try {
    const pid = Number(readFileSync(join(REPO_ROOT, ".shopmesh", "run", `${name}.pid`), "utf8").trim());
    if (alive(pid)) return pid;
  } catch {
    // no pid file: a stack started some other way
  }
  try {
    const pid = Number(execFileSync("pgrep", ["-o", "-f", pattern], { encoding: "utf8" }).trim());
    return alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** One command-line argument of a process that starts with `prefix` (`-Xmx` of a JVM), or undefined. */
export function processArgument(pid, prefix) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .findLast((arg) => arg.startsWith(prefix));
  } catch {
    return undefined;
  }
}

/** Samples the RSS of `pids` every `intervalMs` until stopped; returns the peak per pid. */
export function sampleRss(pids, intervalMs = 250) {
  const peak = Object.fromEntries(pids.map((pid) => [pid, rssMiB(pid)]));
  const timer = setInterval(() => {
    for (const pid of pids) peak[pid] = Math.max(peak[pid], rssMiB(pid));
  }, intervalMs);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/**
 * Starts a node process and resolves once it logs a JSON line with `"listening"` and a
 * port (the platform's and the floor servers' start-up line). `nodeArgs` carries preloads
 * (`--import @shopmesh/platform/telemetry`) and `--cpu-prof`.
 */
export async function startNode(name, script, { env = {}, nodeArgs = [], timeoutMs = 60_000 } = {}) {
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npx tsc -b tsconfig.build.json\` first`);
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: REPO_ROOT,
    env: { ...process.env, OTEL_SDK_DISABLED: "true", LOG_LEVEL: "info", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output.slice(-20).join("\n")}`)), timeoutMs);
    const onLine = (line) => {
      if (output.length < 2000) output.push(line);
      if (!line.includes('"listening')) return;
      try {
        const entry = JSON.parse(line);
        if (entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a JSON log line
      }
    };
    createInterface({ input: child.stdout }).on("line", onLine);
    createInterface({ input: child.stderr }).on("line", onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${output.slice(-20).join("\n")}`));
    });
  });
  return {
    name,
    port,
    pid: child.pid,
    output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const TOOLS_BIN = join(process.env["SHOPMESH_TOOLS"] ?? join(homedir(), ".cache", "shopmesh", "tools"), "bin");
export const ENVOY = join(TOOLS_BIN, "envoy");

/**
 * Renders the edge config from the contracts with tools/envoy-gen for the given upstreams
 * (the same generator `npm run envoy:generate` uses) and starts Envoy on free ports.
 * The per-Envoy backstop bucket is raised so it does not cap a saturation run.
 */
export async function startEnvoy(upstreams, options = {}) {
  const gen = await import(join(REPO_ROOT, "tools", "envoy-gen", "dist", "index.js"));
  const services = (await gen.loadContractServices()).map(gen.describeService);
  const closed = { host: "127.0.0.1", port: 1 };
  const all = Object.fromEntries(Object.keys(gen.upstreamPortVariables(services)).map((name) => [name, upstreams[name] ?? closed]));
  const config = gen.renderEnvoyConfig({
    services,
    upstreams: { ...all, otel: { host: "127.0.0.1", port: 4317 } },
    edgePort: 0,
    adminPort: 0,
    storefrontOrigins: ["http://localhost:5173"],
    healthCheckIntervalSeconds: 2,
    localRateLimit: { maxTokens: 1_000_000, tokensPerFill: 1_000_000, fillIntervalSeconds: 1 },
    ...options,
  });
  const dir = await mkdtemp(join(tmpdir(), "shopmesh-bench-edge-"));
  const configFile = join(dir, "envoy.yaml");
  const adminFile = join(dir, "admin-address");
  await writeFile(configFile, gen.toYaml(config));
  const child = spawn(
    ENVOY,
    ["-c", configFile, "--log-level", "error", "--use-dynamic-base-id", "--concurrency", "1", "--admin-address-path", adminFile, "--drain-time-s", "0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", (line) => output.length < 500 && output.push(line));
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const admin = await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`envoy exited with ${child.exitCode}:\n${output.slice(-20).join("\n")}`);
        const address = (await readFile(adminFile, "utf8").catch(() => "")).trim();
        if (!address) return undefined;
        const ready = await fetch(`http://${address}/ready`);
        return ready.status === 200 ? address : undefined;
      },
      20_000,
      "envoy ready",
    );
    const listeners = await (await fetch(`http://${admin}/listeners?format=json`)).json();
    const port = listeners.listener_statuses.find((listener) => listener.name === "edge").local_address.socket_address.port_value;
    const healthy = (cluster) =>
      waitFor(
        async () => {
          const clusters = await (await fetch(`http://${admin}/clusters`)).text();
          return clusters.split("\n").some((line) => line.startsWith(`${cluster}::`) && line.includes("::health_flags::healthy")) ? true : undefined;
        },
        20_000,
        `${cluster} healthy at the edge`,
      );
    return { name: "envoy", port, pid: child.pid, admin, output, healthy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
