// The edge (Envoy) in front of the local services, for scripts/stack.mjs (npm start / up / down).
// Its config is rendered from the contracts by tools/envoy-gen: the local variant, with this
// environment's port overrides (<NAME>_PORT, EDGE_PORT, ENVOY_ADMIN_PORT, STOREFRONT_ORIGINS).
//   node scripts/envoy/edge.mjs start|stop|status     (the same steps by hand)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { exitWithUsage, parseCommandLine } from "../lib/command-line.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const HOST = "127.0.0.1";
const RUN = join(ROOT, ".shopmesh", "run");
const LOGS = join(ROOT, ".shopmesh", "logs");
const LOG_FILE = join(LOGS, "envoy.log");
export const EDGE_PORT = Number(process.env.EDGE_PORT ?? 8080);
export const ENVOY_ADMIN_PORT = Number(process.env.ENVOY_ADMIN_PORT ?? 9901);
export const EDGE_CONFIG = join(RUN, "envoy.yaml");
const PID_FILE = join(RUN, "edge-envoy.pid");
const GENERATOR = join(ROOT, "tools", "envoy-gen", "dist", "main.js");
const ENVOY = join(process.env.SHOPMESH_TOOLS ?? join(homedir(), ".cache", "shopmesh", "tools"), "bin", "envoy");
const READY_TIMEOUT_MS = 30_000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pid of the detached Envoy started by `up`, if it is still running. */
export function runningEdgePid() {
  if (!existsSync(PID_FILE)) return undefined;
  const pid = Number(readFileSync(PID_FILE, "utf8"));
  return pid && alive(pid) ? pid : undefined;
}

export async function edgeReady() {
  try {
    const response = await fetch(`http://${HOST}:${ENVOY_ADMIN_PORT}/ready`, { signal: AbortSignal.timeout(1_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

const tail = () => (existsSync(LOG_FILE) ? readFileSync(LOG_FILE, "utf8").split("\n").slice(-30).join("\n") : "(no log)");

/**
 * Renders .shopmesh/run/envoy.yaml and starts Envoy. Foreground (`detached: false`): returns the
 * child, its output appended to .shopmesh/logs/envoy.log and, when `echo` is given, passed to
 * `echo("envoy", line)`; detached: writes a pid file and returns undefined. Resolves once the
 * admin endpoint says ready.
 */
export async function startEdge({ detached, echo, env = {} }) {
  if (!existsSync(GENERATOR)) throw new Error("tools/envoy-gen is not built (npx tsc -b tsconfig.build.json)");
  if (!existsSync(ENVOY)) throw new Error(`envoy is not installed at ${ENVOY} (bash scripts/infra/install.sh)`);
  const running = runningEdgePid();
  if (running) {
    console.log(`    ${"envoy".padEnd(13)} already running (pid ${running})`);
    return undefined;
  }
  mkdirSync(RUN, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  // `env` may name Envoy's mesh certificate (MESH_*): the services' gRPC side then takes mutual TLS only.
  const render = spawnSync(process.execPath, [GENERATOR, "--local", EDGE_CONFIG], { stdio: "inherit", cwd: ROOT, env: { ...process.env, ...env } });
  if (render.status !== 0) throw new Error("rendering the edge config failed");
  // A dynamic base id: several Envoys (tests, another checkout) can run on one machine.
  const args = ["-c", EDGE_CONFIG, "--log-level", "warn", "--use-dynamic-base-id"];
  let child;
  if (detached) {
    // Started through a shell that backgrounds it: an Envoy spawned by node with `detached`
    // received SIGTERM the moment node exited, this one outlives the command that started it.
    const launched = spawnSync("bash", ["-c", `nohup "$0" "$@" >>"${LOG_FILE}" 2>&1 </dev/null & echo $!`, ENVOY, ...args], { cwd: ROOT, encoding: "utf8" });
    const pid = Number(launched.stdout.trim());
    if (launched.status !== 0 || !pid) throw new Error(`could not start envoy: ${launched.stderr}`);
    writeFileSync(PID_FILE, String(pid));
    child = {
      get exitCode() {
        return alive(pid) ? null : 1;
      },
    };
  } else {
    child = spawn(ENVOY, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        writeFileSync(LOG_FILE, `${line}\n`, { flag: "a" });
        echo?.("envoy", line);
      });
    }
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await edgeReady())) {
    if (child.exitCode !== null) throw new Error(`envoy exited with code ${child.exitCode}\n${tail()}`);
    if (Date.now() > deadline) throw new Error(`envoy not ready after ${READY_TIMEOUT_MS / 1000}s\n${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  console.log(`    ${"envoy".padEnd(13)} ready on ${HOST}:${EDGE_PORT} (admin ${HOST}:${ENVOY_ADMIN_PORT})`);
  return detached ? undefined : child;
}

/** Stops the detached Envoy started by `up` (SIGTERM, then SIGKILL after 10 s). */
export async function stopEdge() {
  const pid = runningEdgePid();
  if (pid) {
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    if (alive(pid)) process.kill(pid, "SIGKILL");
    console.log("stopped envoy");
  }
  rmSync(PID_FILE, { force: true });
}

/** One status line, in the format of `npm run status`. */
export async function edgeStatusLine() {
  const pid = runningEdgePid();
  const state = (await edgeReady()) ? "ready" : pid ? "starting" : "down";
  return `${"envoy".padEnd(13)} ${state.padEnd(10)} ${String(pid ?? "-").padEnd(8)} ${EDGE_PORT}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const commands = {
    start: () => startEdge({ detached: true }),
    stop: () => stopEdge(),
    status: async () => console.log(await edgeStatusLine()),
  };
  const usage = "node scripts/envoy/edge.mjs start|stop|status";
  const { positionals } = parseCommandLine("edge", usage, { allowPositionals: true });
  const [command = "status", ...extra] = positionals;
  const run = commands[command];
  if (!run || extra.length > 0) exitWithUsage("edge", usage, `unknown command ${positionals.join(" ")}`);
  run().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
