// Helpers for the observability test: Jaeger's query API, Prometheus text, the topology, ops/,
// and the two pages the README pictures: the trace view (Jaeger's UI) and the dashboard.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import { basename, extname, join } from "node:path";
import { eventually, freePort, JAEGER_URL, type TraceIndex } from "@shopmesh/platform/testing";
import { servicesByPort, usesKafka } from "@shopmesh/platform/topology";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { REPO_ROOT } from "../edge/harness.js";

const OTLP_HTTP = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "http://127.0.0.1:4318";

/** A service as the topology (platform/src/topology.ts) declares it: the one place it says what it calls. */
export interface Manifest {
  port: number;
  kind: string;
  calls: readonly string[];
  stores: readonly string[];
  kafka: boolean;
}

export function loadManifests(): Record<string, Manifest> {
  return Object.fromEntries(servicesByPort().map(([name, s]) => [name, { port: s.port, kind: s.kind, calls: s.calls, stores: s.stores, kafka: usesKafka(s) }]));
}

// --- Jaeger ---------------------------------------------------------------------------------

/** Service-to-service RPC hops seen in a trace: a SERVER span whose parent is another service's CLIENT span. */
export function rpcEdges(index: TraceIndex): Array<[string, string]> {
  const edges = new Set<string>();
  for (const span of index.spans) {
    const parent = span.parentId ? index.byId.get(span.parentId) : undefined;
    if (span.kind === "server" && parent?.kind === "client" && parent.service !== span.service) edges.add(`${parent.service}>${span.service}`);
  }
  return [...edges].map((edge) => edge.split(">") as [string, string]);
}

/** Exports one span over OTLP/HTTP JSON: the storefront's root span, as a browser SDK would. */
export async function sendRootSpan(span: { traceId: string; spanId: string; name: string; startMs: number; endMs: number }): Promise<void> {
  const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
  const response = await fetch(`${OTLP_HTTP}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "storefront" } }] },
          scopeSpans: [
            {
              scope: { name: "shopmesh.test" },
              spans: [
                {
                  traceId: span.traceId,
                  spanId: span.spanId,
                  name: span.name,
                  kind: 3,
                  startTimeUnixNano: nanos(span.startMs),
                  endTimeUnixNano: nanos(span.endMs),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  if (!response.ok) throw new Error(`OTLP export answered ${response.status}: ${await response.text()}`);
}

// --- Prometheus ---------------------------------------------------------------------------

export interface Samples {
  /** Series names with samples. */
  names: Set<string>;
  /** Metric families declared (`# TYPE`), with or without samples yet. */
  families: Set<string>;
  /** Whether a sample of `metric` exists whose labels include `match`. */
  has(metric: string, match?: Record<string, string>): boolean;
  /** Sum of the samples of `metric` whose labels include `match`. */
  sum(metric: string, match?: Record<string, string>): number;
}

export function parseMetrics(text: string): Samples {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  const families = new Set<string>();
  for (const line of text.split("\n")) {
    const declared = /^# TYPE (\S+) /.exec(line);
    if (declared) families.add(declared[1]!);
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  const matching = (metric: string, match: Record<string, string>) =>
    samples.filter((sample) => sample.name === metric && Object.entries(match).every(([key, value]) => sample.labels[key] === value));
  return {
    names: new Set(samples.map((sample) => sample.name)),
    families,
    has: (metric, match = {}) => matching(metric, match).length > 0,
    sum: (metric, match = {}) => matching(metric, match).reduce((total, sample) => total + sample.value, 0),
  };
}

/** Every series name the services export, with histogram suffixes as queries may use them. */
export function exportedMetricNames(scrapes: Samples[]): Set<string> {
  const names = new Set<string>();
  for (const scrape of scrapes) {
    for (const name of scrape.names) names.add(name);
    for (const family of scrape.families) for (const suffix of ["", "_bucket", "_count", "_sum"]) names.add(`${family}${suffix}`);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  "sum",
  "rate",
  "irate",
  "increase",
  "by",
  "without",
  "histogram_quantile",
  "max",
  "min",
  "avg",
  "count",
  "le",
  "on",
  "ignoring",
  "clamp_min",
  "topk",
  "or",
  "and",
  "unless",
  "bool",
  "offset",
  "vector",
  "time",
  "abs",
  "delta",
  "deriv",
  "label_replace",
]);

/** Metric names a PromQL expression reads (identifiers outside label matchers and not functions or keywords). */
export function metricNamesIn(query: string): string[] {
  const withoutLabels = query
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/"[^"]*"/g, "");
  const withoutGroupings = withoutLabels.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "");
  const names = withoutGroupings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((name) => !PROMQL_WORDS.has(name) && !/^\d/.test(name) && name.includes("_")))];
}

// --- ops/ -----------------------------------------------------------------------------------

export async function readOpsFiles() {
  const yaml = async (name: string) => parseYaml(await readFile(join(REPO_ROOT, "ops", "prometheus", name), "utf8")) as Record<string, unknown>;
  const prometheus = await yaml("prometheus.yml");
  const localPrometheus = await yaml("prometheus.local.yml");
  const dashboard = JSON.parse(await readFile(join(REPO_ROOT, "ops", "grafana", "dashboards", "shopmesh.json"), "utf8")) as Record<string, unknown>;
  const panels = JSON.parse(await readFile(join(REPO_ROOT, "ops", "prometheus", "dashboard", "panels.json"), "utf8")) as {
    rows: Array<{ panels: Array<{ queries: Array<{ expr: string }> }> }>;
  };
  return { prometheus, localPrometheus, dashboard, panels };
}

export interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  honor_labels?: boolean;
  scrape_interval?: string;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
}

/** Every target of a scrape config, with the `service_name` its target label gives it. */
export function prometheusScrapeTargets(config: Record<string, unknown>) {
  const jobs = (config["scrape_configs"] ?? []) as ScrapeConfig[];
  return jobs.flatMap((job) =>
    (job.static_configs ?? []).flatMap((group) =>
      group.targets.map((target) => ({
        service: group.labels?.["service_name"] ?? job.job_name,
        target,
        path: job.metrics_path ?? "/metrics",
        labels: Object.keys(group.labels ?? {}),
        honorLabels: job.honor_labels ?? false,
      })),
    ),
  );
}

export function dashboardQueries(dashboard: Record<string, unknown>): string[] {
  const queries: string[] = [];
  const visit = (panels: unknown) => {
    for (const panel of (panels ?? []) as Array<{ targets?: Array<{ expr?: string }>; panels?: unknown }>) {
      for (const target of panel.targets ?? []) if (target.expr) queries.push(target.expr);
      visit(panel.panels);
    }
  };
  visit(dashboard["panels"]);
  return queries;
}

// --- the pages behind the README pictures ------------------------------------------------

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
};

/**
 * Serves ops/jaeger/ui the way Jaeger does with `ui.assets_path` (files under /static/, every
 * other path index.html) and passes /api/ to the Jaeger the tests export to, so the trace view
 * is checked whatever config the running Jaeger was started with.
 */
export async function serveTraceView(): Promise<{ url: string; close(): Promise<void> }> {
  const root = join(REPO_ROOT, "ops", "jaeger", "ui");
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const reply = async (): Promise<void> => {
      if (url.pathname.startsWith("/api/")) {
        const upstream = await fetch(`${JAEGER_URL}${url.pathname}${url.search}`);
        response.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
        response.end(Buffer.from(await upstream.arrayBuffer()));
        return;
      }
      const file = url.pathname.startsWith("/static/") ? join(root, "static", basename(url.pathname)) : join(root, "index.html");
      const body = await readFile(file);
      response.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream" });
      response.end(body);
    };
    reply().catch(() => {
      response.writeHead(404);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface RunningPrometheus {
  url: string;
  /** An instant query's samples. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/**
 * Prometheus as `npm start` runs it (the built binary, ops/prometheus/prometheus.local.yml, the
 * dashboard at /user/), with the targets moved to the given ports and a 1 s scrape interval.
 */
export async function startPrometheus(ports: Record<string, number>): Promise<RunningPrometheus> {
  const binary = join(process.env["SHOPMESH_TOOLS"] ?? join(homedir(), ".cache", "shopmesh", "tools"), "bin", "prometheus");
  const config = parseYaml(await readFile(join(REPO_ROOT, "ops", "prometheus", "prometheus.local.yml"), "utf8")) as {
    global: Record<string, string>;
    scrape_configs: ScrapeConfig[];
  };
  config.global = { ...config.global, scrape_interval: "1s", evaluation_interval: "1s" };
  for (const job of config.scrape_configs) {
    job.static_configs = (job.static_configs ?? [])
      .filter((group) => ports[group.labels?.["service_name"] ?? ""] !== undefined)
      .map((group) => ({ ...group, targets: [`127.0.0.1:${ports[group.labels!["service_name"]!]}`] }));
  }
  const dir = await mkdtemp(join(tmpdir(), "shopmesh-prometheus-"));
  await writeFile(join(dir, "prometheus.yml"), toYaml(config));
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.user-assets=${join(REPO_ROOT, "ops", "prometheus", "dashboard")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${output.join("").slice(-2000)}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok || undefined;
      },
      { timeoutMs: 20_000, what: `prometheus ready on ${url} (${binary}; scripts/infra/install.sh builds it)` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
      return body.data.result;
    },
    stop,
  };
}
