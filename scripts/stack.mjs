#!/usr/bin/env node
// Brings the whole mesh up or down on this machine, no containers:
//   start   infrastructure + build + every service in the foreground; Ctrl-C stops what it started.
//           Logs go to .shopmesh/logs/<service>.log; with --logs also here: pino-pretty on a
//           terminal, one JSON object a line otherwise (npm start -- --logs)
//   up      the same, detached (logs in .shopmesh/logs/<service>.log)
//   down    stop the services, then the infrastructure this checkout started
//   down-services  stop the services, edge and storefront, leaving the infrastructure up
//   ready   exit 0 when every service answers ready
//   status  infrastructure and services, one line each
//   seed    load the demo data again (idempotent; the services must be up)
// Services and ports come from the topology (platform/src/topology.ts), loaded from its build.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EDGE_CONFIG, ENVOY_ADMIN_PORT, edgeStatusLine, startEdge, stopEdge } from "./envoy/edge.mjs";
import { exitWithUsage, parseCommandLine } from "./lib/command-line.mjs";
import { buildStorefront, startStorefront, stopStorefront, STOREFRONT_URL, storefrontStatusLine } from "./web/storefront.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const STATE = join(ROOT, ".shopmesh");
const RUN = join(STATE, "run");
const LOGS = join(STATE, "logs");
const READY_TIMEOUT_MS = Number(process.env.SHOPMESH_READY_TIMEOUT_MS ?? 90_000);
const HOST = "127.0.0.1";

const USAGE = "node scripts/stack.mjs [<command>] [--logs]";
const { values: flags, positionals } = parseCommandLine("stack", USAGE, { allowPositionals: true, options: { logs: { type: "boolean" } } });
const [command = "start", ...extra] = positionals;

function sh(script, args = [], options = {}) {
  const result = spawnSync("bash", [join(ROOT, script), ...args], { stdio: "inherit", cwd: ROOT, ...options });
  return result.status ?? 1;
}

function must(script, args = []) {
  const code = sh(script, args);
  if (code !== 0) {
    console.error(`\n${script} failed (exit ${code})`);
    process.exit(code);
  }
}

/** The topology module, from the platform's build (so it is loaded only once the build ran). */
let topology;

async function discoverServices() {
  try {
    topology ??= await import("@shopmesh/platform/topology");
  } catch (err) {
    throw new Error(`cannot load the topology; build first (npm run build): ${err.message}`);
  }
  return topology
    .servicesByPort()
    .map(([name, s]) => ({
      name,
      port: Number(process.env[s.portEnv] ?? s.port),
      portEnv: s.portEnv,
      kind: s.kind,
      main: join(ROOT, "services", name, "dist", "main.js"),
    }))
    .sort((a, b) => a.port - b.port);
}

/** An infrastructure port as this environment sets it (discoverServices loaded the topology). */
const infraPort = (name) => {
  const endpoint = topology.topology.infrastructure[name];
  return Number(process.env[endpoint.env] ?? endpoint.port);
};

const pidFile = (service) => join(RUN, `service-${service.name}.pid`);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(service) {
  if (!existsSync(pidFile(service))) return undefined;
  const pid = Number(readFileSync(pidFile(service), "utf8"));
  return pid && alive(pid) ? pid : undefined;
}

/** True when something already listens on the port. */
function portTaken(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function isReady(port) {
  try {
    const response = await fetch(`http://${HOST}:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

function logTail(service, lines = 40) {
  const file = join(LOGS, `${service.name}.log`);
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/** How long the mesh certificates npm start issues live; each start renews those in their last third. */
const MESH_CERT_LIFETIME_SECONDS = 24 * 3600;
const PKI = join(STATE, "pki");

/**
 * Mutual TLS between the local services: the mesh CA in .shopmesh/pki and a certificate per
 * service, plus Envoy's and the operator's (seeds, grpcurl). Issued on first start, renewed
 * when close to expiry; services read them again every minute, so a renewal needs no restart.
 */
async function ensureMeshCertificates(services) {
  if (process.env.SHOPMESH_MESH_TLS === "off") return;
  const { createMeshCa } = await import("@shopmesh/platform/pki");
  const ca = createMeshCa(PKI);
  for (const name of [...services.map((s) => s.name), "envoy", "operator"]) ca.ensure(name, MESH_CERT_LIFETIME_SECONDS);
}

/** The mesh TLS variables of identity `name` (none when SHOPMESH_MESH_TLS=off). */
function meshEnv(name) {
  if (process.env.SHOPMESH_MESH_TLS === "off") return {};
  // Written out, not imported: `npm run seed` uses it without a build step of its own.
  // The file names are createMeshCa's (<name>.crt/.key beside ca.crt).
  return { MESH_CA_FILE: join(PKI, "ca.crt"), MESH_CERT_FILE: join(PKI, `${name}.crt`), MESH_KEY_FILE: join(PKI, `${name}.key`) };
}

function serviceEnv(name) {
  return {
    ...process.env,
    ...meshEnv(name),
    NODE_ENV: process.env.NODE_ENV ?? "development",
    OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? `http://${HOST}:${infraPort("otlpHttp")}`,
    JWT_SIGNING_KEY_FILE: process.env.JWT_SIGNING_KEY_FILE ?? join(STATE, "keys", "jwt-signing-key.pem"),
    KAFKAJS_NO_PARTITIONER_WARNING: "1",
  };
}

function nodeArgs(service) {
  return ["--enable-source-maps", "--import", "@shopmesh/platform/telemetry", service.main];
}

async function waitReady(services, children) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const pending = new Set(services.map((s) => s.name));
  while (pending.size > 0) {
    for (const service of services) {
      if (!pending.has(service.name)) continue;
      const child = children?.get(service.name);
      if (child && child.exitCode !== null) throw new Error(`${service.name} exited with code ${child.exitCode}\n${logTail(service)}`);
      if (await isReady(service.port)) {
        pending.delete(service.name);
        console.log(`    ${service.name.padEnd(13)} ready on ${HOST}:${service.port}`);
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const names = [...pending];
      throw new Error(
        `not ready after ${READY_TIMEOUT_MS / 1000}s: ${names.join(", ")}\n${names.map((n) => `--- ${n} ---\n${logTail({ name: n })}`).join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Runs every service's demo seed (`services/<name>/dist/seed/main.js`), in port order. Each is idempotent. */
function seed(services) {
  const seeds = services.map((s) => ({ name: s.name, main: join(ROOT, "services", s.name, "dist", "seed", "main.js") })).filter((s) => existsSync(s.main));
  if (seeds.length === 0) return;
  console.log("\n==> seeding demo data");
  for (const { name, main } of seeds) {
    const result = spawnSync(process.execPath, [main], { stdio: "inherit", cwd: ROOT, env: serviceEnv("operator") });
    if (result.status !== 0) console.error(`${name} seed failed; the mesh is up but its demo data may be incomplete`);
  }
}

/** grpcurl's flags for the operator's mesh certificate (none when the mesh runs plaintext). */
const grpcurlTls = () =>
  process.env.SHOPMESH_MESH_TLS === "off" ? "-plaintext " : "-cacert .shopmesh/pki/ca.crt -cert .shopmesh/pki/operator.crt -key .shopmesh/pki/operator.key ";

function banner(services) {
  const edgePort = infraPort("edge");
  const lines = [
    "",
    "shopmesh is up",
    "",
    `  storefront        ${STOREFRONT_URL}`,
    ...(existsSync(EDGE_CONFIG) ? [`  edge (Envoy)      http://${HOST}:${edgePort}   (admin http://${HOST}:${ENVOY_ADMIN_PORT})`] : []),
    ...services.map((s) => `  ${s.name.padEnd(17)} ${HOST}:${s.port}${s.kind === "http" ? "   (HTTP)" : `   grpcurl ${grpcurlTls()}${HOST}:${s.port} list`}`),
    `  traces            http://${HOST}:${infraPort("jaegerUi")}   (Jaeger)`,
    `  dashboard         http://${HOST}:${infraPort("prometheus")}/user/   (Prometheus: http://${HOST}:${infraPort("prometheus")}/api/v1/)`,
    `  logs of a trace   npm run logs -- --trace <trace id>`,
    `  Mailpit UI        http://${HOST}:${infraPort("mailpitUi")}`,
    `  metrics           http://${HOST}:<service port>/metrics`,
    `  admin sign-in     ${process.env.IDENTITY_ADMIN_EMAIL ?? "admin@shopmesh.local"} / ${process.env.IDENTITY_ADMIN_PASSWORD ? "(from IDENTITY_ADMIN_PASSWORD)" : "admin-password"}`,
    "",
  ];
  console.log(lines.join("\n"));
}

async function prepare() {
  mkdirSync(RUN, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  must("scripts/bootstrap.sh");
  console.log("\n==> starting infrastructure");
  must("scripts/infra/up.sh");
  console.log("\n==> building");
  const build = spawnSync("npx", ["tsc", "-b", "tsconfig.build.json"], { stdio: "inherit", cwd: ROOT });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const services = await discoverServices();
  const missing = services.filter((s) => !existsSync(s.main));
  if (missing.length) throw new Error(`not built: ${missing.map((s) => s.name).join(", ")}`);
  buildStorefront(); // storefront: scripts/web/storefront.mjs
  await ensureMeshCertificates(services);
  return services;
}

async function up() {
  const services = await prepare();
  console.log("\n==> starting services (detached)");
  for (const service of services) {
    if (runningPid(service)) {
      console.log(`    ${service.name.padEnd(13)} already running (pid ${runningPid(service)})`);
      continue;
    }
    if (await portTaken(service.port)) {
      throw new Error(
        `${service.name}: port ${service.port} is already in use by a process this checkout did not start (another checkout's \`npm run up\`?); stop it or set ${service.portEnv}`,
      );
    }
    const log = openSync(join(LOGS, `${service.name}.log`), "a");
    const child = spawn(process.execPath, nodeArgs(service), { cwd: ROOT, env: serviceEnv(service.name), detached: true, stdio: ["ignore", log, log] });
    closeSync(log);
    writeFileSync(pidFile(service), String(child.pid));
    child.unref();
  }
  await waitReady(services);
  await startEdge({ detached: true, env: meshEnv("envoy") }); // edge: scripts/envoy/edge.mjs
  await startStorefront({ detached: true }); // storefront: scripts/web/storefront.mjs
  seed(services);
  banner(services);
  console.log("  logs: .shopmesh/logs/<service>.log   stop: npm run down\n");
}

/**
 * Where `start` shows a process's output line by line when --logs asks for it: pino-pretty's
 * one-line view on a terminal; otherwise one JSON object a line (the services' own, other lines
 * wrapped as `{"service","msg"}`) for whatever reads the stream. Undefined without --logs.
 */
async function logEcho() {
  if (!flags.logs) return undefined;
  if (!process.stdout.isTTY) {
    return (name, line) => process.stdout.write(`${line.startsWith("{") ? line : JSON.stringify({ service: name, msg: line })}\n`);
  }
  const { prettyFactory } = await import("pino-pretty"); // installed by bootstrap, so imported after it
  const pretty = prettyFactory({ translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service", singleLine: true });
  const width = Math.max(...(await discoverServices()).map((service) => service.name.length), "storefront".length);
  return (name, line) => process.stdout.write(`${name.padEnd(width)} | ${pretty(line)}`);
}

async function start() {
  const infraWasHealthy = sh("scripts/infra/status.sh", [], { stdio: "ignore" }) === 0;
  const services = await prepare();
  const echo = await logEcho();
  const already = services.filter((s) => runningPid(s));
  if (already.length) throw new Error(`already running detached: ${already.map((s) => s.name).join(", ")} (npm run down first)`);
  for (const service of services) {
    if (await portTaken(service.port))
      throw new Error(`${service.name}: port ${service.port} is already in use by another process; stop it or set ${service.portEnv}`);
  }
  console.log(`\n==> starting services (logs: .shopmesh/logs/<service>.log${echo ? ", and here" : "; npm start -- --logs shows them here"})`);
  const children = new Map();
  let stopping = false;
  for (const service of services) {
    const child = spawn(process.execPath, nodeArgs(service), { cwd: ROOT, env: serviceEnv(service.name), stdio: ["ignore", "pipe", "pipe"] });
    children.set(service.name, child);
    const log = openSync(join(LOGS, `${service.name}.log`), "a");
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        writeSync(log, `${line}\n`); // synchronous: a crash report's log tail is complete
        echo?.(service.name, line);
      });
    }
    child.once("exit", (code, signal) => {
      if (!stopping) console.error(`\n${service.name} exited (${signal ?? `code ${code}`}); its log: .shopmesh/logs/${service.name}.log`);
    });
  }
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log("\n==> stopping services");
    for (const child of children.values()) child.kill("SIGTERM");
    await Promise.all([...children.values()].map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once("exit", resolve)))));
    if (!infraWasHealthy) {
      console.log("==> stopping infrastructure started by this run");
      sh("scripts/infra/down.sh");
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  try {
    await waitReady(services, children);
    // edge: scripts/envoy/edge.mjs; stopped with the services on Ctrl-C
    const edge = await startEdge({ detached: false, echo, env: meshEnv("envoy") });
    if (edge) children.set("envoy", edge);
    // storefront: scripts/web/storefront.mjs; stopped with the services on Ctrl-C
    const storefront = await startStorefront({ detached: false, echo });
    if (storefront) children.set("storefront", storefront);
  } catch (err) {
    console.error(`\n${err.message}`);
    await stopAll(1);
    return;
  }
  seed(services);
  banner(services);
  console.log(
    echo
      ? "  logs stream below (also in .shopmesh/logs/); Ctrl-C stops everything this command started\n"
      : "  logs: .shopmesh/logs/<service>.log (npm start -- --logs streams them here)   stop: Ctrl-C\n",
  );
}

/** Exit 0 when every service answers ready (used by `npm test` to notice a running stack). */
async function ready() {
  const states = await Promise.all((await discoverServices()).map((service) => isReady(service.port)));
  process.exit(states.every(Boolean) ? 0 : 1);
}

async function down() {
  await stopServices();
  sh("scripts/infra/down.sh");
}

/** Stops what `up` started except the infrastructure. */
async function stopServices() {
  await stopStorefront(); // storefront: scripts/web/storefront.mjs
  await stopEdge(); // edge first: it fronts the services
  const services = await discoverServices();
  for (const service of services) {
    const pid = runningPid(service);
    if (!pid) continue;
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    if (alive(pid)) process.kill(pid, "SIGKILL");
    rmSync(pidFile(service), { force: true });
    console.log(`stopped ${service.name}`);
  }
}

async function status() {
  sh("scripts/infra/status.sh");
  console.log("");
  console.log(`${"SERVICE".padEnd(13)} ${"STATE".padEnd(10)} ${"PID".padEnd(8)} PORT`);
  for (const service of await discoverServices()) {
    const ready = await isReady(service.port);
    const pid = runningPid(service);
    console.log(`${service.name.padEnd(13)} ${(ready ? "ready" : pid ? "starting" : "down").padEnd(10)} ${String(pid ?? "-").padEnd(8)} ${service.port}`);
  }
  console.log(await edgeStatusLine());
  console.log(await storefrontStatusLine());
}

const commands = { start, up, down, "down-services": stopServices, status, ready, seed: async () => seed(await discoverServices()) };
if (!Object.hasOwn(commands, command) || extra.length > 0) {
  exitWithUsage("stack", `node scripts/stack.mjs ${Object.keys(commands).join("|")} [--logs]`, `unknown command ${positionals.join(" ")}`);
}
if (flags.logs && command !== "start") exitWithUsage("stack", USAGE, "--logs is for start (up writes .shopmesh/logs/<service>.log)");
commands[command]().catch((err) => {
  console.error(`\n${err.message}`);
  process.exit(1);
});
