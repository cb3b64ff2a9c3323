// `npm run bench` (or `npm run bench -- --quick`): the mesh measured against its physical
// floor on this machine, side by side in one run. Every figure that is judged is a ratio of
// two things measured in alternating rounds (A B A B ...), reported as the median with its
// spread. Starts its own processes (services from their builds with throwaway databases and
// fresh consumer groups, Envoy rendered for their ports, two floor servers) against the
// shared local infrastructure, and stops them all at the end; it does not use `npm start`.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { toBinary } from "@bufbuild/protobuf";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { CatalogService, GetProductResponseSchema, SearchOrderBy } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { OrderService, OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import {
  connectClient,
  deleteTopicsWhere,
  fetchTrace,
  requestCost,
  spanIndex,
  total,
  tracedLaunch,
  dropDatabase,
  ensureTestTopics,
  freePort,
  meshEnvironment,
  testDatabaseName,
  TEST_KAFKA_BROKERS,
  TEST_MYSQL,
  TEST_OPENSEARCH_URL,
} from "@shopmesh/platform/testing";
import { meshChannelCredentials, meshNameOf, meshTlsEnv } from "@shopmesh/platform";
import { createMeshCa } from "@shopmesh/platform/pki";
import { localAddress, servicesByPort } from "@shopmesh/platform/topology";
import mysql from "mysql2/promise";
import { closedLoop, connectJson, grpcUnary, openLoop, summarize } from "./lib/load.mjs";
import { cpuSeconds, infraPid, processArgument, REPO_ROOT, rssMiB, sampleRss, startEnvoy, startNode, waitFor } from "./lib/proc.mjs";
import { renderChart } from "./lib/chart.mjs";
import { renderMarkdown } from "./lib/report.mjs";
import { parseCommandLine } from "../scripts/lib/command-line.mjs";

const { values: flags } = parseCommandLine("bench", "npm run bench [-- --quick [--with-checkout]] [-- --out DIR]", {
  options: { quick: { type: "boolean" }, "with-checkout": { type: "boolean" }, out: { type: "string" } },
});
const QUICK = flags.quick ?? false;
const OUT_DIR = resolve(flags.out ?? join(REPO_ROOT, "bench", "results"));
const PLAN = QUICK
  ? {
      // Two rounds: --quick proves the harness end to end inside npm test, on a busy machine too.
      rounds: 2,
      segmentMs: 1_200,
      openMs: 1_500,
      warmMs: 400,
      concurrency: 32,
      checkout: flags["with-checkout"] ?? false,
      profileMs: 0,
      search: { products: 300, rate: 40, lagUpdates: 10 },
    }
  : {
      rounds: 3,
      segmentMs: 5_000,
      openMs: 5_000,
      warmMs: 1_500,
      concurrency: 32,
      checkout: true,
      profileMs: 6_000,
      search: { products: 1_200, rate: 40, lagUpdates: 50 },
    };
/** Hard ceiling on requests per segment, whatever the machine does. */
const MAX_REQUESTS = 200_000;
/** The local Jaeger's OTLP/HTTP receiver (the tracing-on runs export to it). */
const OTLP_HTTP_ENDPOINT = `http://${localAddress("otlpHttp")}`;
/**
 * A service with tracing on, as `npm start` runs it, but recording only the traces a caller
 * marks sampled (ratio 0 for new ones): the load runs untraced, the one traced checkout is whole.
 */
const traced = (name) =>
  tracedLaunch(name, { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_HTTP_ENDPOINT, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" });
/** What one PlaceOrder cost before the saga step of issue 13 (commit eb9e419, counted from its trace the same way). */
const PLACE_ORDER_BEFORE = { rpcHops: 8, sqlStatements: 27 };
const RELAY_POLL_INTERVAL_MS = 200; // the platform's default (platform/src/kafka/outbox.ts)
const PAID_OR_LATER = new Set([OrderStatus.PAID, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]);
const ADDRESS = { recipientName: "Bench Shopper", line1: "1 Invalidenstr.", city: "Berlin", postalCode: "10115", countryCode: "DE" };

const began = performance.now();
function progress(message) {
  const seconds = Math.round((performance.now() - began) / 1000);
  console.log(`[bench ${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}] ${message}`);
}

const median = (values) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** Median and spread (min..max) of per-round values. */
const spread = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values });

const BENCH_RUN = randomBytes(4).toString("hex");
const BENCH_TOPIC_PREFIX = `bench.${BENCH_RUN}.`;
/** Every search index and alias the bench's catalogs make starts with this (cleanup deletes `<prefix>*`). */
const BENCH_INDEX_PREFIX = `bench-${BENCH_RUN}-`;
/** The catalog's index alias for a prefix (services/catalog/src/search/product-index.ts). */
const SEARCH_ALIAS = `${BENCH_INDEX_PREFIX}shopmesh-products`;
/** CreateProduct calls in flight while the search catalog is loaded. */
const SEARCH_LOAD_CONCURRENCY = 8;
const SEARCH_LAG_POLL_MS = 20;
const SEARCH_LAG_TIMEOUT_MS = 30_000;
/** OpenSearch's default refresh interval (the catalog's index does not set one). */
const SEARCH_REFRESH_MS = 1_000;
/**
 * The fixed query mix of the search rounds, sent in this order over and over: single words, two
 * words, a misspelt word, a brand and a noun, filters with a sort. All find something in the
 * first 300 demo products (the --quick catalog) as well as in all 1,200.
 */
const SEARCH_QUERIES = [
  { query: "kettle" },
  { query: "headphones" },
  { query: "running shoe" },
  { query: "yoga mat" },
  { query: "backpak" },
  { query: "northwind lamp" },
  { query: "chair", minPriceMinor: 5_000n, maxPriceMinor: 50_000n, orderBy: SearchOrderBy.PRICE_ASC },
  { query: "sneaker", brands: ["Northwind", "Acme", "Lumen"], orderBy: SearchOrderBy.NEWEST },
];

const results = {
  date: new Date().toISOString(),
  quick: QUICK,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
  plan: PLAN,
  scenarios: {},
  comparisons: {},
  footprint: {},
  eventLag: undefined,
  search: undefined,
  targets: [],
  notes: [],
  profiles: [],
};

/**
 * Runs one load segment against a target and reads the CPU its server processes used.
 * `pids` are the processes on the serving path (service, Envoy, ratelimit); CPU per call
 * is reported per process and in total.
 */
async function segment(target, load) {
  const before = Object.fromEntries(target.pids.map(([name, pid]) => [name, cpuSeconds(pid)]));
  const stopRss = sampleRss(target.pids.map(([, pid]) => pid));
  const figures = await load();
  const peak = stopRss();
  const cpuMsPerCall = {};
  let total = 0;
  for (const [name, pid] of target.pids) {
    const used = cpuSeconds(pid) - before[name];
    cpuMsPerCall[name] = figures.calls ? (used * 1000) / figures.calls : NaN;
    total += used;
  }
  cpuMsPerCall.total = figures.calls ? (total * 1000) / figures.calls : NaN;
  const rssPeakMiB = Object.fromEntries(target.pids.map(([name, pid]) => [name, peak[pid]]));
  return { ...figures, cpuMsPerCall, rssPeakMiB };
}

/** A B A B ...: each target measured once per round, in the same order, `rounds` times. */
async function alternate(label, targets, load) {
  for (const target of targets) await load(target, PLAN.warmMs); // warm-up, not recorded
  const runs = Object.fromEntries(targets.map((target) => [target.name, []]));
  for (let round = 1; round <= PLAN.rounds; round++) {
    for (const target of targets) {
      const figures = await segment(target, () => load(target, null));
      runs[target.name].push(figures);
      const errors = figures.errors ? `, ${figures.errors} errors` : "";
      progress(
        `  ${label} round ${round}/${PLAN.rounds} ${target.name}: ${figures.throughput.toFixed(0)} calls/s, p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms, CPU ${figures.cpuMsPerCall.total.toFixed(3)} ms/call${errors}`,
      );
    }
  }
  for (const [name, list] of Object.entries(runs)) {
    results.scenarios[`${label}: ${name}`] = {
      label,
      target: name,
      throughput: spread(list.map((run) => run.throughput)),
      p50: spread(list.map((run) => run.p50)),
      p90: spread(list.map((run) => run.p90)),
      p99: spread(list.map((run) => run.p99)),
      cpuMsPerCall: Object.fromEntries(Object.keys(list[0].cpuMsPerCall).map((key) => [key, spread(list.map((run) => run.cpuMsPerCall[key]))])),
      errors: list.reduce((sum, run) => sum + run.errors, 0),
      calls: list.reduce((sum, run) => sum + run.calls, 0),
      rssPeakMiB: list.at(-1).rssPeakMiB,
      firstError: list.find((run) => run.firstError)?.firstError,
    };
  }
  return runs;
}

/** Per-round ratio of two targets' figures (same round, so the same machine weather). */
function ratio(runs, a, b, pick) {
  return spread(runs[a].map((run, index) => pick(run) / pick(runs[b][index])));
}
function delta(runs, a, b, pick) {
  return spread(runs[a].map((run, index) => pick(run) - pick(runs[b][index])));
}

function target(name, measured, goal, met, detail) {
  results.targets.push({ name, measured, goal, met, detail });
  progress(`  target ${met === undefined ? "not measured" : met ? "MET" : "NOT MET"}: ${name} — ${measured} (goal ${goal})`);
}

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const fmtSpread = (s, digits = 2, unit = "") => `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

// ---------------------------------------------------------------------------------------------

const started = [];
const databases = [];
const tempDirs = [];
let envoy;

async function start(name, script, options) {
  const service = await startNode(name, script, options);
  started.push(service);
  return service;
}
const serviceMain = (name) => join(REPO_ROOT, "services", name, "dist", "main.js");

/** The HTTP load tool comes from the npm registry, installed into bench/node_modules on first use. */
function ensureLoadTools() {
  if (existsSync(join(REPO_ROOT, "bench", "node_modules", "autocannon", "package.json"))) return;
  progress("installing autocannon (bench/package.json) from the npm registry");
  execFileSync("npm", ["install", "--prefix", join(REPO_ROOT, "bench"), "--no-audit", "--no-fund", "--loglevel", "error"], { stdio: "inherit" });
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  ensureLoadTools();
  progress(
    `shopmesh bench${QUICK ? " --quick" : ""}: ${cpus().length} cores, load ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}; results to ${OUT_DIR}`,
  );

  // --- the stack for the read path: identity (keys, admin), ratelimit, catalog twice, floors, Envoy
  const run = BENCH_RUN;
  const keyDir = await mkdtemp(join(tmpdir(), "bench-keys-"));
  tempDirs.push(keyDir);
  const limitsFile = join(keyDir, "limits.json");
  // Far above anything the bench sends: the edge path still makes its ratelimit round trip.
  await writeFile(
    limitsFile,
    JSON.stringify({
      classes: {
        default: { requests: 1_000_000, unit: "second" },
        login: { requests: 1_000_000, unit: "second" },
        search: { requests: 1_000_000, unit: "second" },
      },
    }),
  );
  const db = (service) => {
    const name = testDatabaseName(service);
    databases.push(name);
    return name;
  };
  const ports = {};
  for (const [name] of servicesByPort()) ports[name] = await freePort();
  // Topics and Redis keys of its own: a dev stack or a test run on the same machine never sees
  // the benchmark's traffic (cleanup deletes the topics).
  await ensureTestTopics(TEST_KAFKA_BROKERS, BENCH_TOPIC_PREFIX);
  const meshEnv = {
    ...meshEnvironment({ run, label: "bench", ports, signingKeyFile: join(keyDir, "jwt.pem") }),
    KAFKA_TOPIC_PREFIX: BENCH_TOPIC_PREFIX,
    REDIS_KEY_PREFIX: `bench:${run}:`,
    OPENSEARCH_URL: TEST_OPENSEARCH_URL,
    SEARCH_INDEX_PREFIX: BENCH_INDEX_PREFIX,
    IDENTITY_DATABASE: db("identity"),
    CATALOG_DATABASE: db("catalog"),
  };
  const PORT_ENV = Object.fromEntries(servicesByPort().map(([name, s]) => [name, s.portEnv]));
  const service = (name, { env = {}, nodeArgs = [], label = name } = {}) =>
    start(label, serviceMain(name), { env: { ...meshEnv, [PORT_ENV[name]]: String(ports[name]), ...env }, nodeArgs });

  progress(`starting identity, ratelimit, catalog (tracing off) and catalog (tracing on, Jaeger at ${OTLP_HTTP_ENDPOINT})`);
  // Traced like the checkout mesh below, so one checkout's trace shows every hop; the catalog
  // it calls is the tracing-off twin (the GetProduct comparisons need it plain).
  const identity = await service("identity", traced("identity"));
  const ratelimit = await service("ratelimit", { env: { RATELIMIT_LIMITS_FILE: limitsFile } });
  const catalogOff = await service("catalog", { label: "catalog" });
  // The twin shares the database and the Redis cache; started after the first so the
  // migrations are not run twice at once.
  const catalogOn = await service("catalog", {
    label: "catalog (tracing on)",
    env: { CATALOG_PORT: "0", OTEL_SDK_DISABLED: "false", OTEL_SERVICE_NAME: "catalog-bench", OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_HTTP_ENDPOINT },
    nodeArgs: ["--import", "@shopmesh/platform/telemetry"],
  });

  progress("seeding: admin login, a category and a product");
  const { tokens } = await connectClient(IdentityService, identity.port).login({ email: "admin@shopmesh.local", password: "admin-password" });
  const adminToken = tokens.accessToken;
  const catalogAdmin = connectClient(CatalogService, catalogOff.port, { token: adminToken });
  const { category } = await catalogAdmin.createCategory({ category: { slug: `bench-${run}`, name: "Bench" } });
  const newProduct = async (index) =>
    (
      await catalogAdmin.createProduct({
        product: {
          sku: `BENCH-${run}-${index}`.toUpperCase(),
          name: `Bench kettle ${index}`,
          description: "A kettle of the size a real product page has: a name, a description, a price and a category.",
          categoryId: category.id,
          price: { currency: "EUR", amountMinor: 2499n },
        },
      })
    ).product;
  const product = await newProduct(0);
  const getProduct = CatalogService.method.getProduct;
  const request = { productId: product.id };
  // Fill the cache and take the exact answer the floors will give.
  const probe = grpcUnary(`127.0.0.1:${catalogOff.port}`, getProduct, request);
  const answer = await probe.call();
  await probe.call();
  probe.close();
  const answerBytes = toBinary(GetProductResponseSchema, answer);
  results.payloadBytes = answerBytes.length;

  // A third twin behind mutual TLS (the mesh's gRPC side), to price one mTLS hop against plaintext.
  const pki = createMeshCa(join(keyDir, "pki"));
  const catalogTlsFiles = pki.ensure("catalog", 3_600);
  const catalogTls = await service("catalog", {
    label: "catalog (mTLS)",
    env: { CATALOG_PORT: "0", ...meshTlsEnv(catalogTlsFiles) },
  });
  const benchIdentity = pki.ensure("operator", 3_600);

  progress(`starting the floors: bare @grpc/grpc-js and bare connect-node, both answering the same ${answerBytes.length}-byte GetProductResponse`);
  const floorEnv = { FLOOR_RESPONSE_B64: Buffer.from(answerBytes).toString("base64") };
  const floorGrpc = await start("floor grpc-js", join(REPO_ROOT, "bench", "floor-server.mjs"), { env: { ...floorEnv, FLOOR_KIND: "grpc" } });
  const floorConnect = await start("floor connect-node", join(REPO_ROOT, "bench", "floor-server.mjs"), { env: { ...floorEnv, FLOOR_KIND: "connect" } });

  const idle = {};
  const recordIdle = () => {
    for (const proc of [...started, ...(envoy ? [envoy] : [])]) if (!(proc.name in idle)) idle[proc.name] = rssMiB(proc.pid);
  };
  recordIdle();

  // --- 1 + 2: floor vs catalog GetProduct (cache hit), gRPC direct, tracing on and off --------
  progress(`step 1-2: GetProduct saturation, closed loop, ${PLAN.concurrency} in flight, ${PLAN.segmentMs} ms per segment, ${PLAN.rounds} rounds`);
  const grpcTarget = (name, proc) => ({ name, pids: [[proc.name, proc.pid]], client: grpcUnary(`127.0.0.1:${proc.port}`, getProduct, request) });
  const readTargets = [
    grpcTarget("floor grpc-js", floorGrpc),
    grpcTarget("floor connect-node", floorConnect),
    grpcTarget("catalog tracing off", catalogOff),
    grpcTarget("catalog tracing on", catalogOn),
    {
      name: "catalog mTLS",
      pids: [[catalogTls.name, catalogTls.pid]],
      client: grpcUnary(`127.0.0.1:${catalogTls.port}`, getProduct, request, {
        // As a service's stub does: the catalog's mesh name checked, and sent as the TLS server name.
        credentials: meshChannelCredentials(benchIdentity, meshNameOf(getProduct.parent)),
        channelOptions: { "grpc.ssl_target_name_override": meshNameOf(getProduct.parent) },
      }),
    },
  ];
  const saturate = (t, warmMs) => closedLoop(t.client.call, { concurrency: PLAN.concurrency, durationMs: warmMs ?? PLAN.segmentMs, maxRequests: MAX_REQUESTS });
  const read = await alternate("GetProduct gRPC saturation", readTargets, saturate);
  for (const t of readTargets) t.client.close();
  const tput = (run) => run.throughput;
  const cpu = (run) => run.cpuMsPerCall.total;
  results.comparisons.catalogOnVsFloorThroughput = ratio(read, "catalog tracing on", "floor grpc-js", tput);
  results.comparisons.catalogOnVsFloorCpu = ratio(read, "catalog tracing on", "floor grpc-js", cpu);
  results.comparisons.catalogOffVsFloorCpu = ratio(read, "catalog tracing off", "floor grpc-js", cpu);
  results.comparisons.tracingOnVsOffThroughput = ratio(read, "catalog tracing on", "catalog tracing off", tput);
  results.comparisons.connectFloorVsGrpcFloorCpu = ratio(read, "floor connect-node", "floor grpc-js", cpu);
  const c = results.comparisons;
  target(
    "GetProduct (cache hit, tracing on) throughput vs grpc-js floor",
    `${fmtSpread(c.catalogOnVsFloorThroughput)}x`,
    ">= 0.6x",
    c.catalogOnVsFloorThroughput.median >= 0.6,
  );
  target(
    "GetProduct (cache hit, tracing on) server CPU per call vs grpc-js floor",
    `${fmtSpread(c.catalogOnVsFloorCpu)}x`,
    "<= 2x",
    c.catalogOnVsFloorCpu.median <= 2,
  );
  target("Tracing on / off throughput", `${fmtSpread(c.tracingOnVsOffThroughput)}x`, ">= 0.85", c.tracingOnVsOffThroughput.median >= 0.85);
  // Same catalog build, tracing off both ways: the difference is the TLS record layer on one long-lived channel.
  c.mtlsVsPlainThroughput = ratio(read, "catalog mTLS", "catalog tracing off", tput);
  c.mtlsVsPlainCpu = ratio(read, "catalog mTLS", "catalog tracing off", cpu);
  target(
    "mTLS hop / plaintext throughput (GetProduct, one long-lived channel)",
    `${fmtSpread(c.mtlsVsPlainThroughput)}x`,
    ">= 0.8x",
    c.mtlsVsPlainThroughput.median >= 0.8,
  );
  target("mTLS hop / plaintext server CPU per call", `${fmtSpread(c.mtlsVsPlainCpu)}x`, "<= 1.25x", c.mtlsVsPlainCpu.median <= 1.25);

  // --- 3: the same through Envoy -------------------------------------------------------------
  progress("starting Envoy rendered by tools/envoy-gen for these ports (catalog = the tracing-on instance)");
  envoy = await startEnvoy(
    {
      identity: { host: "127.0.0.1", port: identity.port },
      catalog: { host: "127.0.0.1", port: catalogOn.port },
      ratelimit: { host: "127.0.0.1", port: ratelimit.port },
    },
    { rateLimitDomain: `bench-${run}` },
  );
  await Promise.all(["catalog_grpc", "catalog_http", "ratelimit"].map((cluster) => envoy.healthy(cluster)));
  recordIdle();
  const edgePids = [
    ["envoy", envoy.pid],
    ["ratelimit", ratelimit.pid],
    [catalogOn.name, catalogOn.pid],
  ];
  const edgeTargets = [
    { name: "direct gRPC", pids: [[catalogOn.name, catalogOn.pid]], client: grpcUnary(`127.0.0.1:${catalogOn.port}`, getProduct, request) },
    { name: "via Envoy gRPC", pids: edgePids, client: grpcUnary(`127.0.0.1:${envoy.port}`, getProduct, request) },
  ];
  const jsonBody = { productId: product.id };
  const httpTargets = [
    {
      name: "direct Connect JSON",
      pids: [[catalogOn.name, catalogOn.pid]],
      client: connectJson(`http://127.0.0.1:${catalogOn.port}`, getProduct, jsonBody, { connections: PLAN.concurrency }),
    },
    {
      name: "via Envoy Connect JSON",
      pids: edgePids,
      client: connectJson(`http://127.0.0.1:${envoy.port}`, getProduct, jsonBody, { connections: PLAN.concurrency }),
    },
  ];
  progress(
    "step 3a: saturation direct vs through Envoy (gRPC and Connect JSON over HTTP/1.1: the bench's closed loop; Connect JSON again with autocannon as a cross-check)",
  );
  const edgeSat = await alternate("GetProduct saturation, edge", edgeTargets, saturate);
  const { default: autocannon } = await import("autocannon");
  const cannon = (t, warmMs) =>
    new Promise((resolveRun, reject) => {
      autocannon(
        {
          url: t.client.url,
          method: "POST",
          headers: t.client.headers,
          body: t.client.body,
          connections: PLAN.concurrency,
          duration: Math.max(1, Math.round((warmMs ?? PLAN.segmentMs) / 1000)),
          amount: undefined,
        },
        (err, result) => {
          if (err) return reject(err);
          const calls = result.requests.total - result.non2xx;
          resolveRun({
            calls,
            errors: result.errors + result.non2xx + result.timeouts,
            seconds: result.duration,
            throughput: calls / result.duration,
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          });
        },
      );
    });
  // The fixed-rate runs below use the bench's own HTTP client, so their 50% comes from the same client.
  const httpSat = await alternate("GetProduct saturation, edge (Connect JSON)", httpTargets, saturate);
  const cannonSat = await alternate("GetProduct saturation, edge (autocannon)", httpTargets, cannon);
  c.envoyVsDirectSaturationConnectAutocannon = ratio(cannonSat, "via Envoy Connect JSON", "direct Connect JSON", tput);
  c.envoyVsDirectSaturationGrpc = ratio(edgeSat, "via Envoy gRPC", "direct gRPC", tput);
  c.envoyVsDirectSaturationConnect = ratio(httpSat, "via Envoy Connect JSON", "direct Connect JSON", tput);
  target("Saturation through Envoy vs direct (gRPC)", `${fmtSpread(c.envoyVsDirectSaturationGrpc)}x`, ">= 0.7x", c.envoyVsDirectSaturationGrpc.median >= 0.7);
  target(
    "Saturation through Envoy vs direct (Connect JSON, HTTP/1.1)",
    `${fmtSpread(c.envoyVsDirectSaturationConnect)}x`,
    ">= 0.7x",
    c.envoyVsDirectSaturationConnect.median >= 0.7,
  );

  const grpcRate = Math.max(20, Math.round(median(edgeSat["direct gRPC"].map(tput)) / 2));
  const httpRate = Math.max(20, Math.round(median(httpSat["direct Connect JSON"].map(tput)) / 2));
  progress(`step 3b: open model at 50% of direct saturation: gRPC ${grpcRate}/s, Connect JSON ${httpRate}/s, ${PLAN.openMs} ms per segment`);
  const atRate = (rate) => (t, warmMs) => openLoop(t.client.call, { rate, durationMs: warmMs ?? PLAN.openMs, maxRequests: MAX_REQUESTS });
  const edgeOpen = await alternate(`GetProduct at ${grpcRate}/s (50%), edge`, edgeTargets, atRate(grpcRate));
  const httpOpen = await alternate(`GetProduct at ${httpRate}/s (50%), edge`, httpTargets, atRate(httpRate));
  for (const t of [...edgeTargets, ...httpTargets]) t.client.close();
  c.envoyP50DeltaGrpc = delta(edgeOpen, "via Envoy gRPC", "direct gRPC", (run) => run.p50);
  c.envoyP99DeltaGrpc = delta(edgeOpen, "via Envoy gRPC", "direct gRPC", (run) => run.p99);
  c.envoyP50DeltaConnect = delta(httpOpen, "via Envoy Connect JSON", "direct Connect JSON", (run) => run.p50);
  c.envoyP99DeltaConnect = delta(httpOpen, "via Envoy Connect JSON", "direct Connect JSON", (run) => run.p99);
  c.envoyCpuPerCallGrpc = spread(edgeOpen["via Envoy gRPC"].map((run) => run.cpuMsPerCall.envoy));
  c.ratelimitCpuPerCallGrpc = spread(edgeOpen["via Envoy gRPC"].map((run) => run.cpuMsPerCall.ratelimit));
  target("Envoy hop p50 delta at 50% load (gRPC)", `${fmtSpread(c.envoyP50DeltaGrpc, 2, " ms")}`, "<= 1 ms", c.envoyP50DeltaGrpc.median <= 1);
  target("Envoy hop p99 delta at 50% load (gRPC)", `${fmtSpread(c.envoyP99DeltaGrpc, 2, " ms")}`, "<= 3 ms", c.envoyP99DeltaGrpc.median <= 3);
  target("Envoy hop p50 delta at 50% load (Connect JSON)", `${fmtSpread(c.envoyP50DeltaConnect, 2, " ms")}`, "<= 1 ms", c.envoyP50DeltaConnect.median <= 1);
  target("Envoy hop p99 delta at 50% load (Connect JSON)", `${fmtSpread(c.envoyP99DeltaConnect, 2, " ms")}`, "<= 3 ms", c.envoyP99DeltaConnect.median <= 3);

  // --- search: OpenSearch vs the MariaDB FULLTEXT fallback, index lag, OpenSearch's RSS --------
  await searchScenarios({ engineCatalog: catalogOff, catalogAdmin, adminToken, service, recordIdle });

  // --- 4: the write path and the saga ---------------------------------------------------------
  const mesh = {};
  if (PLAN.checkout) {
    progress("starting the checkout mesh: inventory, cart, order, payment, payment-provider-sim, delivery, notification");
    Object.assign(meshEnv, {
      INVENTORY_DATABASE: db("inventory"),
      ORDER_DATABASE: db("order"),
      PAYMENT_DATABASE: db("payment"),
      DELIVERY_DATABASE: db("delivery"),
      NOTIFICATION_DATABASE: db("notification"),
    });
    // Instrumented as in production, recording only the one checkout the cost step marks sampled.
    for (const name of ["inventory", "cart", "order", "payment", "payment-provider-sim", "delivery", "notification"])
      mesh[name] = await service(name, traced(name));
    mesh.identity = identity;
    mesh.catalog = catalogOff;
    recordIdle();
    await checkoutScenarios({ mesh, adminToken, newProduct, product, meshEnv, service });
  } else {
    results.notes.push("--quick: the checkout scenarios, event lag, relay drain rate and the whole-stack footprint are not measured (full run only).");
  }

  // --- 5: footprint -------------------------------------------------------------------------
  recordIdle();
  const stackNames = [...servicesByPort().map(([name]) => name), "envoy"];
  const peakUnderLoad = {};
  for (const scenario of Object.values(results.scenarios))
    for (const [name, mib] of Object.entries(scenario.rssPeakMiB ?? {})) peakUnderLoad[name] = Math.max(peakUnderLoad[name] ?? 0, mib);
  results.footprint = { idleMiB: idle, peakUnderLoadMiB: peakUnderLoad };
  const present = stackNames.filter((name) => name in idle);
  const stackMiB = present.reduce((sum, name) => sum + idle[name], 0);
  results.footprint.stack = { processes: present, idleMiB: stackMiB, complete: present.length === stackNames.length };
  target(
    `Whole local stack RSS at rest (${present.length}/${stackNames.length} processes: services + Envoy, infra excluded)`,
    `${stackMiB.toFixed(0)} MiB`,
    "< 1024 MiB",
    present.length === stackNames.length ? stackMiB < 1024 : undefined,
  );

  await profileWorst({ request, getProduct, meshEnv, service, ratelimit, limitsFile });
}

/** The database's clock, which stamps outbox and processed_events rows. */
async function dbNow() {
  const connection = await mysql.createConnection(TEST_MYSQL);
  try {
    const [rows] = await connection.query("SELECT NOW(3) AS now");
    return rows[0].now;
  } finally {
    await connection.end();
  }
}

/** Documents of the demo catalog (they carry a brand; the bench's own products do not) the engine can find now. */
async function indexedDemoProducts() {
  const response = await fetch(`${TEST_OPENSEARCH_URL}/${SEARCH_ALIAS}/_count`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: { bool: { filter: [{ term: { active: true } }, { exists: { field: "brand" } }] } } }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${SEARCH_ALIAS}/_count: HTTP ${response.status}`);
  return (await response.json()).count;
}

/** The version of a product's document in the index as of now (a realtime GET, before any refresh); 0 when absent. */
async function indexedVersion(id) {
  const response = await fetch(`${TEST_OPENSEARCH_URL}/${SEARCH_ALIAS}/_doc/${id}?_source=false`, { signal: AbortSignal.timeout(5_000) });
  if (response.status === 404) return 0;
  if (!response.ok) throw new Error(`${SEARCH_ALIAS}/_doc/${id}: HTTP ${response.status}`);
  return (await response.json())._version ?? 0;
}

/** A word no product has: lowercase letters only, random enough that no other word is within two edits. */
function uniqueWord() {
  return [...randomBytes(10)].map((byte) => String.fromCharCode(97 + (byte % 26))).join("");
}

/**
 * Search: the demo catalog loaded through CreateProduct as admin; SearchProducts with a fixed
 * query mix at a fixed rate, on the engine (`engineCatalog`, SEARCH_ENGINE=opensearch) and on a
 * second catalog with SEARCH_ENGINE=database over the same database, alternated; index lag
 * after UpdateProduct; the RSS of the OpenSearch process (shared infrastructure, not started here).
 */
async function searchScenarios({ engineCatalog, catalogAdmin, adminToken, service, recordIdle }) {
  const { products: productCount, rate, lagUpdates } = PLAN.search;
  const engineUp = await fetch(TEST_OPENSEARCH_URL, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (!engineUp?.ok) throw new Error(`OpenSearch does not answer at ${TEST_OPENSEARCH_URL}: start the infrastructure (scripts/infra/up.sh)`);
  const openSearchPid = infraPid("opensearch", "org.opensearch.bootstrap.OpenSearch");
  const mariadbPid = infraPid("mariadbd", "mariadbd");
  const infra = [...(openSearchPid ? [["opensearch", openSearchPid]] : []), ...(mariadbPid ? [["mariadb", mariadbPid]] : [])];
  const search = (results.search = {
    rate,
    queries: SEARCH_QUERIES.map((query) => ({ ...query, orderBy: query.orderBy === undefined ? undefined : SearchOrderBy[query.orderBy] })),
    opensearch: {
      pid: openSearchPid,
      restMiB: openSearchPid ? rssMiB(openSearchPid) : NaN,
      heapMax: openSearchPid ? processArgument(openSearchPid, "-Xmx") : undefined,
    },
  });

  progress(
    `search a: a catalog with SEARCH_ENGINE=database on the same database; ${productCount} demo products through CreateProduct as admin, ${SEARCH_LOAD_CONCURRENCY} in flight`,
  );
  const databaseCatalog = await service("catalog", { label: "catalog (database search)", env: { CATALOG_PORT: "0", SEARCH_ENGINE: "database" } });
  recordIdle();
  const { demoCatalog } = await import(join(REPO_ROOT, "services", "catalog", "dist", "seed", "demo-catalog.js"));
  const { seedDemoCatalog } = await import(join(REPO_ROOT, "services", "catalog", "dist", "seed", "seed.js"));
  const loadStart = performance.now();
  const seeded = await seedDemoCatalog({
    catalog: connectClient(CatalogService, engineCatalog.port),
    adminToken,
    products: demoCatalog(productCount),
    concurrency: SEARCH_LOAD_CONCURRENCY,
  });
  const loaded = performance.now();
  await waitFor(async () => ((await indexedDemoProducts()) >= productCount ? true : undefined), 120_000, `${productCount} products in ${SEARCH_ALIAS}`);
  const indexed = performance.now();
  search.load = {
    products: seeded.productsCreated,
    seconds: (loaded - loadStart) / 1000,
    perSecond: seeded.productsCreated / ((loaded - loadStart) / 1000),
    allIndexedAfterSeconds: (indexed - loaded) / 1000,
  };
  progress(
    `  loaded ${seeded.productsCreated} products in ${fmt(search.load.seconds, 1)} s (${fmt(search.load.perSecond, 0)}/s); all searchable on the engine ${fmt(search.load.allIndexedAfterSeconds, 1)} s after the last CreateProduct returned`,
  );

  progress(`search b: SearchProducts at ${rate}/s (open model), a fixed mix of ${SEARCH_QUERIES.length} queries, engine vs database, ${PLAN.rounds} rounds`);
  const searchProducts = CatalogService.method.searchProducts;
  const searchTarget = (name, proc) => ({
    name,
    pids: [[proc.name, proc.pid], ...infra],
    clients: SEARCH_QUERIES.map((query) => grpcUnary(`127.0.0.1:${proc.port}`, searchProducts, query)),
  });
  const ENGINE = "engine (OpenSearch)";
  const DATABASE = "database (FULLTEXT)";
  const targets = [searchTarget(ENGINE, engineCatalog), searchTarget(DATABASE, databaseCatalog)];
  const label = `SearchProducts at ${rate}/s, query mix`;
  const mix = (t, warmMs) => {
    let next = 0;
    let degraded = 0;
    let empty = 0;
    const call = async () => {
      const answer = await t.clients[next++ % t.clients.length].call();
      if (answer.degraded) degraded++;
      if (answer.products.length === 0) empty++;
    };
    return openLoop(call, { rate, durationMs: warmMs ?? PLAN.openMs, maxRequests: 5_000 }).then((figures) => ({ ...figures, degraded, empty }));
  };
  const runs = await alternate(label, targets, mix);
  for (const t of targets) t.clients.forEach((client) => client.close());
  const total = (list, key) => list.reduce((sum, run) => sum + run[key], 0);
  for (const t of targets) {
    const scenario = results.scenarios[`${label}: ${t.name}`];
    scenario.degraded = total(runs[t.name], "degraded");
    scenario.emptyAnswers = total(runs[t.name], "empty");
    search[t.name === ENGINE ? "engine" : "database"] = {
      p50: scenario.p50,
      p99: scenario.p99,
      calls: scenario.calls,
      errors: scenario.errors,
      degraded: scenario.degraded,
      emptyAnswers: scenario.emptyAnswers,
      firstError: scenario.firstError,
    };
  }
  const c = results.comparisons;
  c.searchEngineVsDatabaseP50 = ratio(runs, ENGINE, DATABASE, (run) => run.p50);
  c.searchEngineVsDatabaseP99 = ratio(runs, ENGINE, DATABASE, (run) => run.p99);
  search.p50Ratio = c.searchEngineVsDatabaseP50;
  search.p99Ratio = c.searchEngineVsDatabaseP99;
  if (openSearchPid) search.opensearch.peakMiB = Math.max(...runs[ENGINE].map((run) => run.rssPeakMiB.opensearch));
  for (const [name, figures] of [
    [ENGINE, search.engine],
    [DATABASE, search.database],
  ])
    progress(
      `  ${name}: p50 ${fmtSpread(figures.p50)} ms, p99 ${fmtSpread(figures.p99)} ms, ${figures.errors} errors, ${figures.degraded} degraded and ${figures.emptyAnswers} empty answers of ${figures.calls}`,
    );
  target(
    `SearchProducts on the engine at ${rate}/s: errors and degraded answers`,
    `${search.engine.errors} errors, ${search.engine.degraded} degraded of ${search.engine.calls} answers (database: ${search.database.errors} errors)`,
    "0",
    search.engine.errors === 0 && search.engine.degraded === 0 && search.engine.calls > 0,
  );

  progress(
    `search c: index lag, ${lagUpdates} UpdateProduct calls one after another (name -> a new word), each timed until SearchProducts on the engine finds it not degraded (polled every ${SEARCH_LAG_POLL_MS} ms, ${SEARCH_LAG_TIMEOUT_MS / 1000} s at most)`,
  );
  const { products: page } = await catalogAdmin.listProducts({ pageSize: 100 });
  const candidates = page.filter((product) => product.attributes.brand);
  const shopper = connectClient(CatalogService, engineCatalog.port);
  const lags = [];
  const writeLags = [];
  let missed = 0;
  for (let index = 0; index < lagUpdates && missed < 3; index++) {
    // A random point of the refresh cycle: back to back, each update would land just after the
    // refresh that made the previous one searchable, and wait out a whole cycle every time.
    await new Promise((resolveWait) => setTimeout(resolveWait, Math.random() * SEARCH_REFRESH_MS));
    const word = uniqueWord();
    const { product: updated } = await catalogAdmin.updateProduct({
      product: { id: candidates[index % candidates.length].id, name: word },
      updateMask: { paths: ["name"] },
    });
    const returned = performance.now();
    let written;
    for (;;) {
      // A realtime GET sees the write before a refresh makes it searchable: the split between the pipeline and the refresh.
      if (written === undefined && (await indexedVersion(updated.id)) >= Number(updated.version)) written = performance.now() - returned;
      const answer = await shopper.searchProducts({ query: word, pageSize: 5 });
      if (!answer.degraded && answer.products.some((product) => product.id === updated.id && product.version >= updated.version)) {
        lags.push(performance.now() - returned);
        writeLags.push(written ?? lags.at(-1));
        break;
      }
      if (performance.now() - returned > SEARCH_LAG_TIMEOUT_MS) {
        missed++;
        break;
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, SEARCH_LAG_POLL_MS));
    }
  }
  const lag = summarize(lags, 1, missed);
  const writeLag = summarize(writeLags, 1, 0);
  search.indexLag = {
    updates: lags.length + missed,
    found: lags.length,
    missed,
    p50: lag.p50,
    p99: lag.p99,
    max: lag.max,
    pollMs: SEARCH_LAG_POLL_MS,
    written: { p50: writeLag.p50, p99: writeLag.p99, max: writeLag.max },
  };
  progress(
    `  index lag: p50 ${fmt(lag.p50, 0)} ms, p99 ${fmt(lag.p99, 0)} ms, max ${fmt(lag.max, 0)} ms over ${lags.length} updates${missed ? `, ${missed} not searchable within ${SEARCH_LAG_TIMEOUT_MS / 1000} s` : ""}; in the index (realtime GET) after p50 ${fmt(writeLag.p50, 0)} ms, p99 ${fmt(writeLag.p99, 0)} ms`,
  );
  if (missed)
    results.notes.push(
      `Index lag: ${missed} updated products were not searchable on the engine within ${SEARCH_LAG_TIMEOUT_MS / 1000} s (the step stops after 3).`,
    );
  progress(
    `  OpenSearch (shared infrastructure, pid ${openSearchPid ?? "not found"}${search.opensearch.heapMax ? `, ${search.opensearch.heapMax}` : ""}): RSS ${fmt(search.opensearch.restMiB, 0)} MiB before the search rounds, peak ${fmt(search.opensearch.peakMiB, 0)} MiB during them`,
  );

  await databaseCatalog.stop();
  started.splice(started.indexOf(databaseCatalog), 1);
}

/** Cart AddItem, PlaceOrder (to PENDING), checkout to PAID, event lag and relay drain. */
async function checkoutScenarios({ mesh, adminToken, newProduct, meshEnv, service }) {
  progress("seeding the checkout: stock, a delivery partner, customers");
  const products = [];
  for (let index = 1; index <= 8; index++) products.push(await newProduct(index));
  const inventoryAdmin = connectClient(InventoryService, mesh.inventory.port, { token: adminToken });
  for (const p of products) await inventoryAdmin.setStock({ productId: p.id, onHand: 1_000_000 });
  await connectClient(DeliveryService, mesh.delivery.port, { token: adminToken }).createPartner({
    partner: {
      name: "Bench Bikes",
      contactEmail: "dispatch@bench.example",
      available: true,
      serviceAreaPrefixes: ["10"],
      dailyCapacity: 100_000,
      maxOrderItems: 0,
    },
  });
  const customers = [];
  for (let index = 0; index < 24; index++) {
    const { tokens } = await connectClient(IdentityService, mesh.identity.port).register({
      email: `bench-${randomBytes(5).toString("hex")}@example.com`,
      password: "correct horse battery",
      displayName: "Bench Shopper",
    });
    const token = tokens.accessToken;
    customers.push({ cart: connectClient(CartService, mesh.cart.port, { token }), orders: connectClient(OrderService, mesh.order.port, { token }) });
  }
  // A customer does one checkout at a time; calls beyond the pool wait for one (and that wait counts).
  const free = [...customers];
  const waiting = [];
  const acquire = () => (free.length ? Promise.resolve(free.pop()) : new Promise((resolveCustomer) => waiting.push(resolveCustomer)));
  const release = (customer) => (waiting.length ? waiting.shift()(customer) : free.push(customer));
  const withCustomer = async (fn) => {
    const customer = await acquire();
    try {
      return await fn(customer);
    } finally {
      release(customer);
    }
  };
  const pick = () => products[Math.floor(Math.random() * products.length)];
  const key = () => `bench-${randomBytes(8).toString("hex")}`;
  const simUrl = `http://127.0.0.1:${mesh["payment-provider-sim"].port}`;

  const meshPids = Object.entries(mesh).map(([name, proc]) => [name, proc.pid]);
  const addItem = () => withCustomer((customer) => customer.cart.addItem({ productId: pick().id, quantity: 1 }));
  const placeOrder = async () => {
    // PlaceOrder alone is timed: the AddItem that fills the cart runs first, outside the clock.
    const customer = await acquire();
    try {
      await customer.cart.addItem({ productId: pick().id, quantity: 1 });
      const t0 = performance.now();
      const { order } = await customer.orders.placeOrder({ idempotencyKey: key(), shippingAddress: ADDRESS });
      if (order.status !== OrderStatus.PENDING) throw new Error(`order ${order.id} is ${OrderStatus[order.status]}`);
      return performance.now() - t0;
    } finally {
      release(customer);
    }
  };
  const checkout = () =>
    withCustomer(async (customer) => {
      await customer.cart.addItem({ productId: pick().id, quantity: 1 });
      const { order, payment } = await customer.orders.placeOrder({ idempotencyKey: key(), shippingAddress: ADDRESS });
      const confirmed = await fetch(`${simUrl}/v1/payment_intents/${payment.providerIntentId}/confirm`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ card_number: "4242424242424242" }),
      });
      if (confirmed.status >= 300) throw new Error(`provider confirm: HTTP ${confirmed.status}`);
      const deadline = performance.now() + 30_000;
      for (;;) {
        const { order: current } = await customer.orders.getOrder({ orderId: order.id });
        if (PAID_OR_LATER.has(current.status)) return;
        if (current.status !== OrderStatus.PENDING) throw new Error(`order ${order.id} is ${OrderStatus[current.status]}`);
        if (performance.now() > deadline) throw new Error(`order ${order.id} not PAID within 30 s`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 25));
      }
    });
  const clearCarts = () => Promise.all(customers.map((customer) => customer.cart.clearCart({}).catch(() => undefined)));

  // PlaceOrder's own latency, not the AddItem before it.
  const timedOpen = (fn, rate, durationMs) => {
    const own = [];
    return openLoop(
      async () => {
        own.push(await fn());
      },
      { rate, durationMs, maxRequests: 5_000 },
    ).then((figures) => ({ ...figures, ownLatencies: own }));
  };

  progress("step 4-: what one PlaceOrder costs, read from its Jaeger trace (RPC hops, SQL statements)");
  const costGoal = `fewer than before the saga step: ${PLACE_ORDER_BEFORE.rpcHops} hops, ${PLACE_ORDER_BEFORE.sqlStatements} SQL`;
  try {
    results.placeOrderCost = await placeOrderCost(withCustomer, pick, key);
    const cost = results.placeOrderCost;
    const sql = total(cost.sqlStatements);
    target(
      "PlaceOrder: RPC hops and SQL statements (one traced checkout)",
      `${cost.rpcHops} hops, ${sql} SQL (${Object.entries(cost.sqlStatements)
        .map(([name, count]) => `${name} ${count}`)
        .join(", ")})`,
      costGoal,
      cost.rpcHops < PLACE_ORDER_BEFORE.rpcHops && sql < PLACE_ORDER_BEFORE.sqlStatements,
    );
  } catch (err) {
    // A diagnostic count: a slow Jaeger must not cost the whole run its load figures.
    progress(`  PlaceOrder cost not measured: ${err.message}`);
    target("PlaceOrder: RPC hops and SQL statements (one traced checkout)", `not measured (${err.message})`, costGoal, false);
  }

  const windowStart = await dbNow();
  const addRate = 40;
  const orderRate = 10;
  progress(`step 4a: cart AddItem at ${addRate}/s and PlaceOrder at ${orderRate}/s (open model), ${PLAN.rounds} rounds`);
  // CPU is read from the processes on each call's path (background relays and consumers of those included).
  const pidsOf = (...names) => meshPids.filter(([name]) => names.includes(name));
  const writeTargets = [{ name: "cart AddItem", pids: pidsOf("cart", "catalog", "inventory") }];
  await alternate(`AddItem at ${addRate}/s`, writeTargets, (t, warmMs) =>
    openLoop(addItem, { rate: addRate, durationMs: warmMs ?? PLAN.openMs, maxRequests: 5_000 }),
  );
  await clearCarts();
  const placeRuns = await alternate(
    `PlaceOrder at ${orderRate}/s`,
    [{ name: "order PlaceOrder", pids: pidsOf("order", "cart", "catalog", "inventory", "payment", "payment-provider-sim") }],
    (t, warmMs) => timedOpen(placeOrder, orderRate, warmMs ?? PLAN.openMs),
  );
  results.scenarios[`PlaceOrder at ${orderRate}/s: order PlaceOrder`].note =
    "latency counted from the moment each checkout was due and includes the AddItem that fills the cart and any wait for a free customer; PlaceOrder's own p50/p99 are under placeOrderOnly";
  const own = placeRuns["order PlaceOrder"].flatMap((run) => run.ownLatencies).sort((a, b) => a - b);
  results.scenarios[`PlaceOrder at ${orderRate}/s: order PlaceOrder`].placeOrderOnly = {
    p50: own[Math.floor(own.length * 0.5)],
    p99: own[Math.floor(own.length * 0.99)],
    calls: own.length,
  };

  progress("step 4b: checkout to PAID saturation (closed loop, 8 customers at once)");
  const sat = await segment({ pids: meshPids }, () => closedLoop(checkout, { concurrency: 8, durationMs: PLAN.segmentMs * 2, maxRequests: 2_000 }));
  results.scenarios["checkout to PAID saturation"] = { label: "checkout to PAID saturation", target: "closed loop, 8 at once", ...sat };
  progress(
    `  checkout saturation: ${sat.throughput.toFixed(1)} checkouts/s, p50 ${sat.p50.toFixed(0)} ms, ${sat.errors} errors${sat.firstError ? ` (${sat.firstError})` : ""}`,
  );
  const halfRate = Math.max(1, Math.round((sat.throughput / 2) * 10) / 10);
  progress(`step 4c: checkout to PAID at 1/s vs at ${halfRate}/s (50% of its saturation), alternated`);
  const checkoutTargets = [
    { name: "checkout at 1/s", pids: meshPids, rate: 1 },
    { name: `checkout at ${halfRate}/s (50%)`, pids: meshPids, rate: halfRate },
  ];
  const checkoutRuns = await alternate("checkout to PAID", checkoutTargets, (t, warmMs) =>
    openLoop(checkout, { rate: t.rate, durationMs: warmMs ? Math.max(warmMs, 2_000) : PLAN.openMs * 2, maxRequests: 2_000 }),
  );
  const slow = checkoutRuns["checkout at 1/s"];
  const busy = checkoutRuns[`checkout at ${halfRate}/s (50%)`];
  const c = results.comparisons;
  // p99 at 50% over the p50 at 1/s, per round.
  c.checkoutP99AtHalfVsP50AtOne = spread(busy.map((run, index) => run.p99 / slow[index].p50));
  const busyErrors = busy.reduce((sum, run) => sum + run.errors, 0);
  target(
    `Checkout errors at 50% of its saturation (${halfRate}/s)`,
    `${busyErrors} errors in ${busy.reduce((s, r) => s + r.calls + r.errors, 0)} checkouts`,
    "0",
    busyErrors === 0,
  );
  target("Checkout p99 at 50% load vs p50 at 1 checkout/s", `${fmtSpread(c.checkoutP99AtHalfVsP50AtOne)}x`, "<= 3x", c.checkoutP99AtHalfVsP50AtOne.median <= 3);
  c.checkoutCpuMsPerCheckout = Object.fromEntries(Object.keys(busy[0].cpuMsPerCall).map((name) => [name, spread(busy.map((run) => run.cpuMsPerCall[name]))]));

  // --- event lag: outbox commit -> consumer's processed_events row, on the database clock
  const windowEnd = await dbNow();
  progress("step 4d: event lag (outbox created_at -> consumer processed_at), relay lag (-> published_at), events committed during 4a-4c");
  const connection = await mysql.createConnection(TEST_MYSQL);
  try {
    const producers = ["order", "payment", "inventory", "delivery", "catalog", "identity"];
    const consumers = ["order", "payment", "inventory", "delivery", "notification"];
    const lags = [];
    const relayLags = [];
    for (const producer of producers) {
      const producerDb = meshEnv[`${producer.toUpperCase()}_DATABASE`];
      const [relayRows] = await connection.query(
        `SELECT TIMESTAMPDIFF(MICROSECOND, created_at, published_at) / 1000 AS ms FROM \`${producerDb}\`.outbox WHERE published_at IS NOT NULL AND created_at BETWEEN ? AND ?`,
        [windowStart, windowEnd],
      );
      relayLags.push(...relayRows.map((row) => Number(row.ms)));
      for (const consumer of consumers) {
        const consumerDb = meshEnv[`${consumer.toUpperCase()}_DATABASE`];
        const [rows] = await connection
          .query(
            `SELECT TIMESTAMPDIFF(MICROSECOND, o.created_at, p.processed_at) / 1000 AS ms FROM \`${producerDb}\`.outbox o JOIN \`${consumerDb}\`.processed_events p ON p.event_id = o.id WHERE o.created_at BETWEEN ? AND ?`,
            [windowStart, windowEnd],
          )
          .catch(() => [[]]);
        lags.push(...rows.map((row) => Number(row.ms)));
      }
    }
    const pct = (list, q) => {
      const sorted = [...list].sort((a, b) => a - b);
      return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
    };
    results.eventLag = {
      events: lags.length,
      p50: pct(lags, 0.5),
      p99: pct(lags, 0.99),
      max: pct(lags, 1),
      relay: { events: relayLags.length, p50: pct(relayLags, 0.5), p99: pct(relayLags, 0.99) },
    };
    target(
      "Event lag p99 (commit -> consumer effect)",
      `${fmt(results.eventLag.p99, 0)} ms over ${lags.length} events (p50 ${fmt(results.eventLag.p50, 0)} ms)`,
      `<= ${RELAY_POLL_INTERVAL_MS + 50} ms (relay poll ${RELAY_POLL_INTERVAL_MS} ms + 50)`,
      results.eventLag.p99 <= RELAY_POLL_INTERVAL_MS + 50,
    );

    // --- relay drain: orders written with the relay off, then timed until all are published
    progress("step 4e: relay drain rate (orders written with order's relay off, then the platform relay drains them, timed)");
    await mesh.order.stop();
    started.splice(started.indexOf(mesh.order), 1);
    mesh.order = await service("order", { env: { OUTBOX_RELAY_ENABLED: "false" } });
    const backlog = PLAN.segmentMs >= 5_000 ? 400 : 60;
    await closedLoop(placeOrder, { concurrency: 12, durationMs: 120_000, maxRequests: backlog });
    await clearCarts();
    const orderDb = meshEnv.ORDER_DATABASE;
    // The relay the services run (platform createOutboxRelay: same batch size, same producer),
    // driven here so the clock covers publishing only, not process start or the Kafka connect.
    const platform = { ...(await import("@shopmesh/platform")), ...(await import("@shopmesh/platform/data")) };
    const logger = platform.createLogger({ service: "bench-relay", level: "warn" });
    const pool = await platform.createMysqlPool({ ...TEST_MYSQL, database: orderDb, poolSize: 4 });
    const producer = platform.createIdempotentProducer(
      platform.createKafka({ brokers: TEST_KAFKA_BROKERS, clientId: "bench-relay", logger, topicPrefix: BENCH_TOPIC_PREFIX }),
    );
    await producer.connect();
    const relay = platform.createOutboxRelay({ pool, producer, logger, source: "/shopmesh/order" });
    const t0 = performance.now();
    const queued = await relay.drainOnce();
    const drainSeconds = (performance.now() - t0) / 1000;
    await producer.disconnect();
    await pool.end();
    const drainRate = queued / drainSeconds;
    results.relayDrain = { events: queued, seconds: drainSeconds, perSecond: drainRate, sustainedOrderRate: halfRate };
    target(
      "Relay drain rate vs sustained order rate",
      `${fmt(drainRate / halfRate, 1)}x (${queued} events in ${fmt(drainSeconds)} s = ${fmt(drainRate, 0)}/s vs ${halfRate} orders/s)`,
      ">= 10x",
      drainRate / halfRate >= 10,
    );
  } finally {
    await connection.end();
  }
}

/** Places one order with a trace context of its own, then counts its cost in Jaeger once every span has arrived. */
async function placeOrderCost(withCustomer, pick, key) {
  const traceId = randomBytes(16).toString("hex");
  await withCustomer(async (customer) => {
    await customer.cart.addItem({ productId: pick().id, quantity: 1 });
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    await customer.orders.placeOrder({ idempotencyKey: key(), shippingAddress: ADDRESS }, { headers: { traceparent } });
  });
  // Spans come in batches: the count is final when two reads a second apart agree.
  let last;
  for (const deadline = performance.now() + 90_000; performance.now() < deadline;) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
    const trace = await fetchTrace(traceId);
    if (!trace) continue;
    let cost;
    try {
      cost = requestCost(spanIndex(trace), "order", "shopmesh.order.v1.OrderService/PlaceOrder");
    } catch {
      continue; // order's own span has not arrived yet
    }
    if (last && JSON.stringify(last) === JSON.stringify(cost)) return cost;
    last = cost;
  }
  throw new Error(`the PlaceOrder trace ${traceId} did not settle in Jaeger within 90 s (last count: ${JSON.stringify(last ?? "none")})`);
}

/**
 * For the missed targets, a CPU profile (`node --cpu-prof`) of the hottest Node process on
 * that path under the same load, saved with the results: catalog for the GetProduct and
 * tracing targets, the ratelimit service (the Node process of the edge hop) for the Envoy ones.
 */
async function profileWorst({ request, getProduct, meshEnv, service, ratelimit, limitsFile }) {
  if (!PLAN.profileMs) return;
  const missed = results.targets.filter((t) => t.met === false);
  const readMiss = missed.find((t) => /GetProduct|Tracing/.test(t.name));
  const edgeMiss = missed.find((t) => /Envoy/.test(t.name));
  const dir = join(OUT_DIR, "profiles");
  results.profiles = [];
  if (readMiss) {
    await mkdir(dir, { recursive: true });
    progress(`profiling catalog (tracing on, node --cpu-prof) under GetProduct saturation, for "${readMiss.name}"`);
    const profiled = await startNode("catalog (profiled)", serviceMain("catalog"), {
      env: {
        ...meshEnv,
        CATALOG_PORT: "0",
        OTEL_SDK_DISABLED: "false",
        OTEL_SERVICE_NAME: "catalog-bench",
        OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_HTTP_ENDPOINT,
      },
      nodeArgs: ["--import", "@shopmesh/platform/telemetry", "--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", "catalog-getproduct.cpuprofile"],
    });
    const client = grpcUnary(`127.0.0.1:${profiled.port}`, getProduct, request);
    await closedLoop(client.call, { concurrency: PLAN.concurrency, durationMs: PLAN.profileMs, maxRequests: MAX_REQUESTS });
    client.close();
    await profiled.stop();
    results.profiles.push({
      service: "catalog (tracing on)",
      scenario: "GetProduct gRPC saturation",
      file: "profiles/catalog-getproduct.cpuprofile",
      forTarget: readMiss.name,
    });
  }
  if (edgeMiss && envoy) {
    await mkdir(dir, { recursive: true });
    progress(`profiling ratelimit (node --cpu-prof) under GetProduct saturation through Envoy, for "${edgeMiss.name}"`);
    await ratelimit.stop();
    started.splice(started.indexOf(ratelimit), 1);
    const profiled = await service("ratelimit", {
      label: "ratelimit (profiled)",
      env: { RATELIMIT_LIMITS_FILE: limitsFile },
      nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", "ratelimit-edge.cpuprofile"],
    });
    await envoy.healthy("ratelimit");
    const client = grpcUnary(`127.0.0.1:${envoy.port}`, getProduct, request);
    await closedLoop(client.call, { concurrency: PLAN.concurrency, durationMs: PLAN.profileMs, maxRequests: MAX_REQUESTS });
    client.close();
    await profiled.stop();
    results.profiles.push({
      service: "ratelimit",
      scenario: "GetProduct gRPC saturation via Envoy",
      file: "profiles/ratelimit-edge.cpuprofile",
      forTarget: edgeMiss.name,
    });
  }
}

async function cleanup() {
  await envoy?.stop().catch(() => undefined);
  await Promise.all(started.map((proc) => proc.stop().catch(() => undefined)));
  for (const name of databases) await dropDatabase(name).catch(() => undefined);
  await deleteTopicsWhere(TEST_KAFKA_BROKERS, (topic) => topic.startsWith(BENCH_TOPIC_PREFIX)).catch(() => undefined);
  // After the catalogs stopped: a running indexer would create the index again.
  await fetch(`${TEST_OPENSEARCH_URL}/${BENCH_INDEX_PREFIX}*?expand_wildcards=all`, { method: "DELETE", signal: AbortSignal.timeout(10_000) }).catch(
    () => undefined,
  );
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
}

// Interrupted (Ctrl-C, a test timeout): stop every process the bench started before leaving.
for (const signal of ["SIGINT", "SIGTERM"])
  process.once(signal, () => {
    progress(`${signal}: stopping everything the bench started`);
    void cleanup().finally(() => process.exit(130));
  });

let failed;
try {
  await main();
} catch (err) {
  failed = err;
  results.error = err instanceof Error ? err.stack : String(err);
  console.error(err);
} finally {
  progress("stopping everything the bench started");
  await cleanup();
}
results.seconds = (performance.now() - began) / 1000;
const stamp = results.date.replace(/[:.]/g, "-");
const jsonName = `${stamp}${QUICK ? "-quick" : ""}.json`;
/** Written the way the repo's prettier config prints them, so `npm run lint` stays clean with results committed. */
async function pretty(text, parser) {
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(join(REPO_ROOT, "package.json"))) ?? {};
    return await prettier.format(text, { ...options, parser });
  } catch {
    return text;
  }
}
await writeFile(
  join(OUT_DIR, jsonName),
  await pretty(
    JSON.stringify(results, (_key, value) => (typeof value === "bigint" ? String(value) : value), 2),
    "json",
  ),
);
await writeFile(join(OUT_DIR, "chart.svg"), renderChart(results));
await writeFile(join(OUT_DIR, "latest.md"), await pretty(renderMarkdown(results, jsonName), "markdown"));
progress(`wrote ${join(OUT_DIR, jsonName)}, latest.md and chart.svg in ${results.seconds.toFixed(0)} s`);
// Everything was stopped above; exit even if a client library keeps a timer alive.
process.exit(failed ? 1 : 0);
