/**
 * Reading traces back from Jaeger's query API: the observability test checks a checkout's
 * trace, and the benchmark counts what one checkout costs (RPC hops, SQL statements).
 */
import { localAddress } from "../topology.js";

export const JAEGER_URL = process.env["JAEGER_URL"] ?? `http://${localAddress("jaegerUi")}`;

export interface JaegerTrace {
  traceID: string;
  spans: Array<{
    traceID: string;
    spanID: string;
    operationName: string;
    processID: string;
    references: Array<{ refType: string; spanID: string; traceID: string }>;
    tags: Array<{ key: string; value: unknown }>;
  }>;
  processes: Record<string, { serviceName: string }>;
}

export interface SpanView {
  traceId: string;
  spanId: string;
  parentId: string | undefined;
  name: string;
  service: string;
  kind: string;
  tags: Record<string, unknown>;
}

/** The trace as Jaeger holds it now, or undefined while it has none of its spans. */
export async function fetchTrace(traceId: string, jaegerUrl = JAEGER_URL): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`);
  if (response.status !== 200) return undefined;
  const body = (await response.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

/** A trace as plain spans, with the set of services in it and the spans whose parent is missing. */
export function spanIndex(trace: JaegerTrace) {
  const spans: SpanView[] = trace.spans.map((span) => {
    const tags = Object.fromEntries(span.tags.map((tag) => [tag.key, tag.value]));
    return {
      traceId: span.traceID,
      spanId: span.spanID,
      parentId: span.references.find((reference) => reference.refType === "CHILD_OF")?.spanID,
      name: span.operationName,
      service: trace.processes[span.processID]?.serviceName ?? "?",
      kind: String(tags["span.kind"] ?? "internal"),
      tags,
    };
  });
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const orphans = spans
    .filter((span) => span.parentId !== undefined && !byId.has(span.parentId))
    .map(({ service, name, parentId }) => ({ service, name, parentId }));
  return { spans, byId, orphans, services: new Set(spans.map((span) => span.service)) };
}

export type TraceIndex = ReturnType<typeof spanIndex>;

/** What one request cost synchronously: the spans under its SERVER span, counted by kind. */
export interface RequestCost {
  /** RPCs to other services under the request (their CLIENT spans), made by it directly or by a callee. */
  rpcHops: number;
  /** `caller>callee/Method`, sorted, for the report. */
  rpcCalls: string[];
  /** SQL statements (mysql2 spans) under the request, per service. */
  sqlStatements: Record<string, number>;
  /** Redis commands under the request, per service. */
  redisCommands: Record<string, number>;
}

/** Counts the RPC hops and the SQL and Redis calls made inside the SERVER span named `rpc`. */
export function requestCost(index: TraceIndex, service: string, rpc: string): RequestCost {
  const root = index.spans.find((span) => span.kind === "server" && span.service === service && span.name === rpc);
  if (!root) throw new Error(`no ${service} server span ${rpc} in the trace`);
  const children = new Map<string, SpanView[]>();
  for (const span of index.spans) if (span.parentId) children.set(span.parentId, [...(children.get(span.parentId) ?? []), span]);
  const under: SpanView[] = [];
  const stack = [...(children.get(root.spanId) ?? [])];
  while (stack.length > 0) {
    const span = stack.pop()!;
    const parent = span.parentId ? index.byId.get(span.parentId) : undefined;
    // What follows a publish, or an external system calling back in (a webhook answering a
    // call that left the mesh), happens after the request: not its cost.
    const callback = span.kind === "server" && parent?.kind === "client" && parent.service === span.service;
    if (callback) continue;
    under.push(span);
    if (span.kind !== "producer") stack.push(...(children.get(span.spanId) ?? []));
  }
  const cost: RequestCost = { rpcHops: 0, rpcCalls: [], sqlStatements: {}, redisCommands: {} };
  for (const span of under) {
    // Counted at the caller, so a callee running without tracing still counts as a hop.
    const callee = span.kind === "client" && span.tags["rpc.system.name"] ? /^shopmesh\.([a-z]+)\.v\d+\.\w+\/(\w+)$/.exec(span.name) : null;
    if (callee) {
      cost.rpcHops++;
      cost.rpcCalls.push(`${span.service}>${callee[1]}/${callee[2]}`);
    }
    const system = span.tags["db.system.name"];
    if (system === "mysql") cost.sqlStatements[span.service] = (cost.sqlStatements[span.service] ?? 0) + 1;
    if (system === "redis") cost.redisCommands[span.service] = (cost.redisCommands[span.service] ?? 0) + 1;
  }
  cost.rpcCalls.sort();
  return cost;
}

export const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);
