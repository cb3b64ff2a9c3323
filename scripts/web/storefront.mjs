// The storefront's part of `npm start` / `npm run up` / `npm run down` (scripts/stack.mjs):
// build web/ with the edge's URL, serve web/dist on 127.0.0.1:5173 (STOREFRONT_PORT), stop it.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUN = join(ROOT, ".shopmesh", "run");
const LOGS = join(ROOT, ".shopmesh", "logs");
const PID_FILE = join(RUN, "storefront.pid");
const SERVER = join(ROOT, "scripts", "web", "serve.mjs");
export const STOREFRONT_PORT = Number(process.env.STOREFRONT_PORT ?? 5173);
export const STOREFRONT_URL = `http://127.0.0.1:${STOREFRONT_PORT}`;
/** Where the page sends its RPCs: the local edge unless SHOPMESH_EDGE_URL says otherwise. */
export const STOREFRONT_EDGE_URL = process.env.SHOPMESH_EDGE_URL ?? `http://127.0.0.1:${process.env.EDGE_PORT ?? 8080}`;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid() {
  if (!existsSync(PID_FILE)) return undefined;
  const pid = Number(readFileSync(PID_FILE, "utf8"));
  return pid && alive(pid) ? pid : undefined;
}

async function ready() {
  try {
    return (await fetch(STOREFRONT_URL, { signal: AbortSignal.timeout(1_000) })).status === 200;
  } catch {
    return false;
  }
}

/** `vite build` of web/ into web/dist, the edge URL baked in as the default. Exits the process on failure. */
export function buildStorefront() {
  console.log("\n==> building the storefront (web/)");
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], {
    cwd: join(ROOT, "web"),
    stdio: "inherit",
    env: { ...process.env, SHOPMESH_EDGE_URL: STOREFRONT_EDGE_URL },
  });
  if (result.status !== 0) {
    console.error("storefront build failed");
    process.exit(result.status ?? 1);
  }
}

/**
 * Serves web/dist, its output appended to .shopmesh/logs/storefront.log. detached: a pid file;
 * otherwise a child, returned so the caller stops it with the rest, whose lines also go to
 * `echo("storefront", line)` when `echo` is given.
 */
export async function startStorefront({ detached, echo }) {
  const running = runningPid();
  if (running) {
    console.log(`    ${"storefront".padEnd(13)} already running (pid ${running})`);
    return undefined;
  }
  mkdirSync(RUN, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  const env = { ...process.env, STOREFRONT_PORT: String(STOREFRONT_PORT), SHOPMESH_EDGE_URL: STOREFRONT_EDGE_URL };
  let child;
  if (detached) {
    const log = openSync(join(LOGS, "storefront.log"), "a");
    child = spawn(process.execPath, [SERVER], { cwd: ROOT, env, detached: true, stdio: ["ignore", log, log] });
    closeSync(log);
    writeFileSync(PID_FILE, String(child.pid));
    child.unref();
  } else {
    child = spawn(process.execPath, [SERVER], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        writeFileSync(join(LOGS, "storefront.log"), `${line}\n`, { flag: "a" });
        echo?.("storefront", line);
      });
    }
  }
  const deadline = Date.now() + 10_000;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the storefront did not start on ${STOREFRONT_URL} (is the port taken? STOREFRONT_PORT)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(`    ${"storefront".padEnd(13)} ready on ${STOREFRONT_URL}`);
  return detached ? undefined : child;
}

export async function stopStorefront() {
  const pid = runningPid();
  if (pid) {
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 5_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive(pid)) process.kill(pid, "SIGKILL");
    console.log("stopped storefront");
  }
  rmSync(PID_FILE, { force: true });
}

export async function storefrontStatusLine() {
  const pid = runningPid();
  const state = (await ready()) ? "ready" : pid ? "starting" : "down";
  return `${"storefront".padEnd(13)} ${state.padEnd(10)} ${String(pid ?? "-").padEnd(8)} ${STOREFRONT_PORT}`;
}
