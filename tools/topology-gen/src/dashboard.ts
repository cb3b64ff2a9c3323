import { METRICS, SERVICE_NAME_LABEL } from "@shopmesh/platform/telemetry-schema";

/**
 * The shop's dashboard, defined once: the Grafana dashboard (ops/grafana/dashboards) and the
 * page Prometheus serves itself (ops/prometheus/dashboard, at /user/) are both generated from
 * it, so they show the same queries. Metric names come from the telemetry registry.
 */
export type Unit = "reqps" | "ops" | "percentunit" | "s" | "short";

export interface Query {
  /** PromQL; `$__range` is the dashboard's time range (Grafana's variable, the page's range selector). */
  readonly expr: string;
  /** Series name: `{{label}}` is replaced by the label's value, as in Grafana. */
  readonly legend: string;
}

export interface Panel {
  readonly title: string;
  readonly description?: string;
  readonly unit: Unit;
  /** `bars`: one bar per query, over the dashboard's range (Grafana's bargauge). */
  readonly kind?: "timeseries" | "bars";
  /** Of 24 columns. */
  readonly width: 8 | 12 | 24;
  readonly queries: readonly Query[];
}

export interface Row {
  readonly title: string;
  readonly panels: readonly Panel[];
}

const by = (...labels: string[]) => `by (${labels.join(", ")})`;
const SERVICE = SERVICE_NAME_LABEL;
const legendOf = (...labels: string[]) => labels.map((label) => `{{${label}}}`).join(" ");
const count = (metric: { name: string }, matchers = "") => `${metric.name}_count${matchers ? `{${matchers}}` : ""}`;
const bucket = (metric: { name: string }) => `${metric.name}_bucket`;
const p95 = (metric: { name: string }, ...labels: string[]) => `histogram_quantile(0.95, sum ${by(...labels, "le")} (rate(${bucket(metric)}[5m])))`;

/** The status codes that mean the server failed (connect-es names, as the `code` label has them). */
const SERVER_FAULTS = `code=~"Internal|Unknown|Unavailable|DeadlineExceeded|DataLoss|Unimplemented"`;
const rpc = METRICS.rpcServerDuration;
const ordersApplied = (type: string) =>
  `sum(increase(${METRICS.eventsProcessed.name}{${SERVICE}="order",type="shopmesh.events.v1.${type}",outcome="applied"}[$__range]))`;

export const DASHBOARD: { title: string; uid: string; rows: readonly Row[] } = {
  title: "shopmesh",
  uid: "shopmesh-overview",
  rows: [
    {
      title: "RPCs per method (server side, both transports)",
      panels: [
        {
          title: "Requests / s by method",
          unit: "reqps",
          width: 8,
          queries: [{ expr: `sum ${by(SERVICE, "method")} (rate(${count(rpc)}[5m]))`, legend: legendOf(SERVICE, "method") }],
        },
        {
          title: "Errors / s by method and code",
          description: "Every answer but OK, caller mistakes (NotFound, InvalidArgument, ...) included.",
          unit: "reqps",
          width: 8,
          queries: [{ expr: `sum ${by(SERVICE, "method", "code")} (rate(${count(rpc, `code!="OK"`)}[5m]))`, legend: legendOf(SERVICE, "method", "code") }],
        },
        {
          title: "p95 latency by method",
          unit: "s",
          width: 8,
          queries: [{ expr: p95(rpc, SERVICE, "method"), legend: legendOf(SERVICE, "method") }],
        },
      ],
    },
    {
      title: "RED per service",
      panels: [
        {
          title: "Requests / s by service",
          unit: "reqps",
          width: 8,
          queries: [{ expr: `sum ${by(SERVICE)} (rate(${count(rpc)}[5m]))`, legend: legendOf(SERVICE) }],
        },
        {
          title: "Server-fault ratio by service",
          description:
            "INTERNAL, UNKNOWN, UNAVAILABLE, DEADLINE_EXCEEDED, DATA_LOSS, UNIMPLEMENTED over all calls; caller mistakes (NOT_FOUND, INVALID_ARGUMENT...) are not faults.",
          unit: "percentunit",
          width: 8,
          queries: [
            {
              expr: `sum ${by(SERVICE)} (rate(${count(rpc, SERVER_FAULTS)}[5m])) / sum ${by(SERVICE)} (rate(${count(rpc)}[5m]))`,
              legend: legendOf(SERVICE),
            },
          ],
        },
        {
          title: "p95 latency by service",
          unit: "s",
          width: 8,
          queries: [{ expr: p95(rpc, SERVICE), legend: legendOf(SERVICE) }],
        },
        {
          title: "Downstream p95 latency (client side)",
          unit: "s",
          width: 12,
          queries: [{ expr: p95(METRICS.rpcClientDuration, SERVICE, "target"), legend: `{{${SERVICE}}} -> {{target}}` }],
        },
        {
          title: "RPCs in flight",
          unit: "short",
          width: 12,
          queries: [{ expr: `sum ${by(SERVICE)} (${METRICS.rpcServerInFlight.name})`, legend: legendOf(SERVICE) }],
        },
      ],
    },
    {
      title: "Edge and checkout",
      panels: [
        {
          title: "Rate-limit decisions / s at the edge",
          unit: "reqps",
          width: 8,
          queries: [{ expr: `sum ${by("class", "decision")} (rate(${METRICS.ratelimitDecisions.name}[5m]))`, legend: legendOf("class", "decision") }],
        },
        {
          title: "Checkout funnel",
          description:
            "AddItem -> PlaceOrder -> PaymentSucceeded/PaymentFailed applied by order -> DeliveryAssigned applied by order, over the dashboard's range.",
          unit: "short",
          kind: "bars",
          width: 8,
          queries: [
            { expr: `sum(increase(${count(rpc, `method="AddItem",code="OK"`)}[$__range]))`, legend: "items added to carts" },
            { expr: `sum(increase(${count(rpc, `method="PlaceOrder",code="OK"`)}[$__range]))`, legend: "orders placed" },
            { expr: ordersApplied("PaymentSucceeded"), legend: "orders paid" },
            { expr: ordersApplied("PaymentFailed"), legend: "payments failed" },
            { expr: ordersApplied("DeliveryAssigned"), legend: "couriers assigned" },
          ],
        },
        {
          title: "PlaceOrder outcomes / s",
          unit: "reqps",
          width: 8,
          queries: [{ expr: `sum ${by("code")} (rate(${count(rpc, `method="PlaceOrder"`)}[5m]))`, legend: legendOf("code") }],
        },
      ],
    },
    {
      title: "Events: outbox, Kafka, consumers",
      panels: [
        {
          title: "Outbox backlog (unpublished rows)",
          unit: "short",
          width: 8,
          queries: [{ expr: `sum ${by(SERVICE)} (${METRICS.outboxBacklog.name})`, legend: legendOf(SERVICE) }],
        },
        {
          title: "Outbox publish latency p95 (commit -> Kafka)",
          unit: "s",
          width: 8,
          queries: [
            { expr: p95(METRICS.outboxPublishLatency, "topic"), legend: legendOf("topic") },
            { expr: `sum(rate(${METRICS.outboxPublishFailures.name}[5m]))`, legend: "failed batches / s" },
          ],
        },
        {
          title: "Consumer lag (messages)",
          unit: "short",
          width: 8,
          queries: [{ expr: `max ${by("group", "topic")} (${METRICS.consumerLag.name})`, legend: legendOf("group", "topic") }],
        },
        {
          title: "Dead-letter topics (messages in them)",
          description: "What sits in each <topic>.dlq; `npm run dlq` lists and replays it.",
          unit: "short",
          width: 8,
          queries: [{ expr: `max ${by("topic")} (${METRICS.deadLetterMessages.name})`, legend: legendOf("topic") }],
        },
        {
          title: "Retries and dead letters / s",
          unit: "ops",
          width: 8,
          queries: [
            { expr: `sum ${by("group")} (rate(${METRICS.eventRetries.name}[5m]))`, legend: "retries {{group}}" },
            { expr: `sum ${by("group", "topic")} (rate(${METRICS.eventDeadLetters.name}[5m]))`, legend: "dead letters {{group}} {{topic}}" },
          ],
        },
        {
          title: "Event lag p95 (created -> handled)",
          unit: "s",
          width: 8,
          queries: [{ expr: p95(METRICS.eventLatency, "group"), legend: legendOf("group") }],
        },
        {
          title: "Events handled / s by outcome",
          unit: "ops",
          width: 24,
          queries: [{ expr: `sum ${by("group", "outcome")} (rate(${METRICS.eventsProcessed.name}[5m]))`, legend: legendOf("group", "outcome") }],
        },
      ],
    },
    {
      title: "Caches and databases",
      panels: [
        {
          title: "Catalog cache hit ratio",
          unit: "percentunit",
          width: 8,
          queries: [
            {
              expr: `sum ${by("cache")} (rate(${METRICS.cacheRequests.name}{result="hit"}[5m])) / sum ${by("cache")} (rate(${METRICS.cacheRequests.name}{result=~"hit|miss"}[5m]))`,
              legend: legendOf("cache"),
            },
          ],
        },
        {
          title: "MySQL pool usage (in use / max)",
          unit: "percentunit",
          width: 8,
          queries: [
            {
              expr: `sum ${by(SERVICE, "database")} (${METRICS.dbPoolConnections.name}{state="in_use"}) / sum ${by(SERVICE, "database")} (${METRICS.dbPoolConnections.name}{state="max"})`,
              legend: legendOf(SERVICE),
            },
          ],
        },
        {
          title: "Callers waiting for a MySQL connection",
          unit: "short",
          width: 8,
          queries: [{ expr: `sum ${by(SERVICE)} (${METRICS.dbPoolWaiting.name})`, legend: legendOf(SERVICE) }],
        },
      ],
    },
  ],
};

/** ops/grafana/dashboards/shopmesh.json: the dashboard as Grafana provisions it. */
export function renderGrafanaDashboard(): string {
  const datasource = { type: "prometheus", uid: "${datasource}" };
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of DASHBOARD.rows) {
    panels.push({ type: "row", title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, id: id++, panels: [] });
    y += 1;
    let x = 0;
    for (const panel of row.panels) {
      if (x + panel.width > 24) {
        x = 0;
        y += 8;
      }
      panels.push({
        type: panel.kind === "bars" ? "bargauge" : "timeseries",
        title: panel.title,
        description: panel.description ?? "",
        datasource,
        gridPos: { h: 8, w: panel.width, x, y },
        id: id++,
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        targets: panel.queries.map((query, index) => ({ refId: String.fromCharCode(65 + index), expr: query.expr, legendFormat: query.legend, datasource })),
      });
      x += panel.width;
    }
    y += 8;
  }
  const dashboard = {
    title: DASHBOARD.title,
    uid: DASHBOARD.uid,
    description: "GENERATED by tools/topology-gen from tools/topology-gen/src/dashboard.ts. Do not edit; the same panels are served by Prometheus at /user/.",
    schemaVersion: 39,
    version: 1,
    editable: true,
    tags: ["shopmesh"],
    time: { from: "now-1h", to: "now" },
    refresh: "30s",
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" }] },
    annotations: { list: [] },
    panels,
  };
  return prettierJson(dashboard);
}

/** ops/prometheus/dashboard/panels.json: what the page Prometheus serves draws. */
export function renderDashboardPanels(): string {
  return prettierJson({ generatedBy: "tools/topology-gen (tools/topology-gen/src/dashboard.ts); do not edit", ...DASHBOARD });
}

/**
 * JSON laid out as prettier lays it out (objects one key a line, arrays of plain values on one
 * line), so `prettier --check` accepts the generated files without the generator awaiting it.
 */
function prettierJson(value: unknown): string {
  const print = (item: unknown, indent: string): string => {
    if (Array.isArray(item)) {
      if (item.length === 0) return "[]";
      if (item.every((element) => element === null || typeof element !== "object")) return `[${item.map((element) => JSON.stringify(element)).join(", ")}]`;
      const inner = `${indent}  `;
      return `[\n${item.map((element) => `${inner}${print(element, inner)}`).join(",\n")}\n${indent}]`;
    }
    if (item !== null && typeof item === "object") {
      const entries = Object.entries(item).filter(([, v]) => v !== undefined);
      if (entries.length === 0) return "{}";
      const inner = `${indent}  `;
      return `{\n${entries.map(([key, v]) => `${inner}${JSON.stringify(key)}: ${print(v, inner)}`).join(",\n")}\n${indent}}`;
    }
    return JSON.stringify(item);
  };
  return `${print(value, "")}\n`;
}
