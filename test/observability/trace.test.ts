// One checkout through the real Envoy, every service a real process with OpenTelemetry on:
// the trace in Jaeger, the services' Prometheus metrics and their logs, and the ops/ configs
// checked against what the services really export.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { DescService } from "@bufbuild/protobuf";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { OrderService, OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { ATTRIBUTES, SPANS, type AttributeName, type SpanSpec } from "@shopmesh/platform/telemetry-schema";
import { connectClient, eventually, fetchTrace, MESH_SLOT_TIMEOUT_MS, requestCost, spanIndex, total, type JaegerTrace } from "@shopmesh/platform/testing";
import { startMesh, type Mesh } from "../e2e/mesh.js";
import { REPO_ROOT, startEdge, waitHealthy, type RunningEnvoy } from "../edge/harness.js";
import { launchChromium } from "../web/storefront.js";
import {
  dashboardQueries,
  exportedMetricNames,
  loadManifests,
  metricNamesIn,
  parseMetrics,
  prometheusScrapeTargets,
  readOpsFiles,
  rpcEdges,
  sendRootSpan,
  serveTraceView,
  startPrometheus,
  type Samples,
} from "./support.js";

const SERVICES = ["identity", "catalog", "inventory", "cart", "order", "payment", "payment-provider-sim", "delivery", "notification", "ratelimit"];
/** Processes built on the platform's RPC server: every one serves /metrics. */
const RPC_SERVICES = SERVICES.filter((name) => name !== "payment-provider-sim");
const CARD_OK = "4242424242424242";
const PASSWORD = "correct horse battery";
const address = { recipientName: "Jane Shopper", line1: "1 Invalidenstr.", city: "Berlin", postalCode: "10115", countryCode: "DE" };

let mesh: Mesh;
let edge: RunningEnvoy;
let limitsDir: string;
const manifests = loadManifests();

/** What one checkout left behind, shared by the tests below. */
const checkout = {
  traceId: randomBytes(16).toString("hex"),
  rootSpanId: randomBytes(8).toString("hex"),
  email: "",
  token: "",
  orderId: "",
  intentId: "",
  clientSecret: "",
  logsFrom: new Map<string, number>(),
  metricsBefore: new Map<string, Samples>(),
  metricsAfter: new Map<string, Samples>(),
  trace: undefined as JaegerTrace | undefined,
};

const headers =
  (values: Record<string, string>): Interceptor =>
  (next) =>
  (request) => {
    for (const [name, value] of Object.entries(values)) request.header.set(name, value);
    return next(request);
  };

/** A browser's client: Connect JSON over HTTP/1.1 to the edge. */
function viaEdge<S extends DescService>(service: S, values: Record<string, string> = {}): Client<S> {
  return createClient(service, createConnectTransport({ baseUrl: edge.baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors: [headers(values)] }));
}

const direct = <S extends DescService>(service: S, name: string, token?: string) => connectClient(service, mesh.ports[name]!, token ? { token } : {});

async function scrape(name: string): Promise<Samples> {
  const response = await fetch(`http://127.0.0.1:${mesh.ports[name]}/metrics`);
  expect(response.status).toBe(200);
  return parseMetrics(await response.text());
}

/** Registered attribute names the assertions below read. */
const attribute = (name: AttributeName) => name;
const DB_SYSTEM = attribute("db.system.name");
const RPC_SYSTEM = attribute("rpc.system.name");
const RPC_METHOD = attribute("rpc.method");
const RPC_STATUS = attribute("rpc.status_code");
const SERVER_ADDRESS = attribute("server.address");
const SERVER_PORT = attribute("server.port");
const DESTINATION = attribute("messaging.destination.name");
const OFFSET = attribute("kafka.offset");

/** Services that must show up in the checkout's trace: everything on its sync and async path. */
const TRACED = ["envoy", "ratelimit", "order", "cart", "catalog", "inventory", "payment", "delivery", "notification"];

beforeAll(async () => {
  limitsDir = await mkdtemp(join(tmpdir(), "observability-limits-"));
  const limitsFile = join(limitsDir, "limits.json");
  await writeFile(limitsFile, JSON.stringify({ classes: { default: { requests: 1000, unit: "second" }, login: { requests: 1000, unit: "second" } } }));
  // debug: the pipeline's access line per RPC is part of what the log test checks.
  const extra: Record<string, Record<string, string>> = Object.fromEntries(SERVICES.map((name) => [name, { LOG_LEVEL: "debug" }]));
  extra["ratelimit"] = { ...extra["ratelimit"], RATELIMIT_LIMITS_FILE: limitsFile };
  mesh = await startMesh(SERVICES, extra, { telemetry: true });
  const at = (name: string) => ({ host: "127.0.0.1", port: mesh.ports[name]! });
  edge = await startEdge(Object.fromEntries(RPC_SERVICES.map((name) => [name, at(name)])), {
    rateLimitDomain: `observability-${randomBytes(4).toString("hex")}`,
  });
  await Promise.all(["identity_http", "cart_http", "order_http", "ratelimit"].map((cluster) => waitHealthy(edge, cluster)));

  // Shop set-up straight at the services: only the customer's checkout goes through the edge.
  const admin = await direct(IdentityService, "identity").login({ email: "admin@shopmesh.local", password: "admin-password" });
  const adminToken = admin.tokens!.accessToken;
  const { category } = await direct(CatalogService, "catalog", adminToken).createCategory({
    category: { slug: `obs-${randomBytes(3).toString("hex")}`, name: "Kitchen" },
  });
  const sku = `OBS-${randomBytes(5).toString("hex").toUpperCase()}`;
  const { product } = await direct(CatalogService, "catalog", adminToken).createProduct({
    product: { sku, name: `Kettle ${sku}`, description: "Boils water.", categoryId: category!.id, price: { currency: "EUR", amountMinor: 2499n } },
  });
  await direct(InventoryService, "inventory", adminToken).setStock({ productId: product!.id, onHand: 5 });
  await direct(DeliveryService, "delivery", adminToken).createPartner({
    partner: {
      name: "Berlin Bikes",
      contactEmail: "dispatch@berlin-bikes.example",
      available: true,
      serviceAreaPrefixes: ["10"],
      dailyCapacity: 100,
      maxOrderItems: 0,
    },
  });
  for (const name of RPC_SERVICES) checkout.metricsBefore.set(name, await scrape(name));
  for (const [name, service] of mesh.processes) checkout.logsFrom.set(name, service.output.length);

  // The customer, all through the edge. PlaceOrder carries the storefront's trace context.
  checkout.email = `obs-${randomBytes(5).toString("hex")}@example.com`;
  const { tokens } = await viaEdge(IdentityService).register({ email: checkout.email, password: PASSWORD, displayName: "Jane Shopper" });
  checkout.token = tokens!.accessToken;
  const auth = { authorization: `Bearer ${checkout.token}` };
  await viaEdge(CartService, auth).addItem({ productId: product!.id, quantity: 1 });
  const startedAt = Date.now();
  const placed = await viaEdge(OrderService, { ...auth, traceparent: `00-${checkout.traceId}-${checkout.rootSpanId}-01` }).placeOrder({
    idempotencyKey: `obs-${randomBytes(6).toString("hex")}`,
    shippingAddress: address,
  });
  checkout.orderId = placed.order!.id;
  checkout.intentId = placed.payment!.providerIntentId;
  checkout.clientSecret = placed.payment!.clientSecret;
  // The storefront's own span, the trace's root, as a browser SDK would export it.
  await sendRootSpan({ traceId: checkout.traceId, spanId: checkout.rootSpanId, name: "storefront checkout", startMs: startedAt, endMs: Date.now() });

  const confirmed = await fetch(`http://127.0.0.1:${mesh.ports["payment-provider-sim"]}/v1/payment_intents/${checkout.intentId}/confirm`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ card_number: CARD_OK }),
  });
  expect(confirmed.status).toBeLessThan(300);
  const orders = viaEdge(OrderService, auth);
  await eventually(
    async () => {
      const { order } = await orders.getOrder({ orderId: checkout.orderId });
      return order?.status === OrderStatus.PAID && order.deliveryId ? order : undefined;
    },
    { timeoutMs: 30_000, what: "order paid and a courier assigned" },
  );

  // Spans arrive in batches (services every 0.5 s, Envoy every 5 s): wait for the whole story.
  checkout.trace = await eventually(
    async () => {
      const trace = await fetchTrace(checkout.traceId);
      if (!trace) return undefined;
      const { services, orphans, spans } = spanIndex(trace);
      const consumers = spans.filter((span) => span.kind === "consumer").map((span) => span.service);
      const complete =
        TRACED.every((name) => services.has(name)) && orphans.length === 0 && ["delivery", "notification", "order"].every((name) => consumers.includes(name));
      return complete ? trace : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1_000, what: "the checkout's complete trace in Jaeger" },
  ).catch(async (err: Error) => {
    const trace = await fetchTrace(checkout.traceId);
    const index = trace ? spanIndex(trace) : undefined;
    throw new Error(`${err.message}; services so far: ${[...(index?.services ?? [])].join(", ")}; orphans: ${JSON.stringify(index?.orphans ?? [])}`);
  });
  // Metrics after the asynchronous hops settled (the trace above includes them).
  for (const name of RPC_SERVICES) checkout.metricsAfter.set(name, await scrape(name));
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await edge?.stop();
  await mesh?.stop();
  if (limitsDir) await rm(limitsDir, { recursive: true, force: true });
}, 60_000);

describe("one checkout, one trace", () => {
  test("when a customer checks out through the edge, then every hop of it, sync and over Kafka, lands in one Jaeger trace", () => {
    const { services, spans } = spanIndex(checkout.trace!);
    expect([...services].sort()).toEqual(expect.arrayContaining(TRACED));
    expect(spans.filter((span) => span.traceId !== checkout.traceId)).toEqual([]);
    const placeOrder = spans.filter((span) => span.service === "order" && span.name === "shopmesh.order.v1.OrderService/PlaceOrder");
    expect(placeOrder).toHaveLength(1);
    // Envoy -> order: the service's server span is a child of the edge's span.
    expect(spans.find((span) => span.spanId === placeOrder[0]!.parentId)?.service).toBe("envoy");
  });

  test("when an event is published and consumed, then the relay's PRODUCER span continues the request's trace and each consumer's span is its child", () => {
    const { spans, byId } = spanIndex(checkout.trace!);
    const producers = spans.filter((span) => span.kind === "producer");
    // The mesh runs on topics of its own (KAFKA_TOPIC_PREFIX): compare the topics' own names.
    const topics = producers.map((span) => String(span.tags[DESTINATION]).replace(/^.*?(shopmesh\.)/, "$1"));
    expect(topics).toEqual(expect.arrayContaining(["shopmesh.order.v1", "shopmesh.payment.v1"]));
    const orderPlaced = producers.find((span) => span.tags["cloudevents.event_type"] === "shopmesh.events.v1.OrderPlaced")!;
    // Stored on the outbox row inside PlaceOrder: the publish hangs under that request.
    expect(byId.get(orderPlaced.parentId!)?.service).toBe("order");
    const consumers = spans.filter((span) => span.kind === "consumer");
    for (const consumer of consumers) expect(byId.get(consumer.parentId!)?.kind).toBe("producer");
    const consumedOrderPlaced = consumers.filter((span) => span.parentId === orderPlaced.spanId).map((span) => span.service);
    expect(consumedOrderPlaced).toEqual(expect.arrayContaining(["notification"]));
    // The provider's webhook echoes the intent's trace context, so payment's outcome joins too.
    const webhook = spans.find((span) => span.service === "payment" && span.name === "POST /webhooks/provider");
    expect(webhook?.kind).toBe("server");
    const paymentEvent = producers.find((span) => span.tags["cloudevents.event_type"] === "shopmesh.events.v1.PaymentSucceeded")!;
    expect(paymentEvent).toBeDefined();
    expect(consumers.filter((span) => span.parentId === paymentEvent.spanId).map((span) => span.service)).toContain("order");
  });

  test("when the trace is complete, then every span's parent is in it and MySQL and Redis calls hang under the services' spans", () => {
    const { spans, orphans } = spanIndex(checkout.trace!);
    expect(orphans).toEqual([]);
    const databaseCalls = spans.filter((span) => span.tags[DB_SYSTEM] !== undefined);
    const systems = new Set(databaseCalls.map((span) => String(span.tags[DB_SYSTEM])));
    expect([...systems].sort()).toEqual(expect.arrayContaining(["mysql", "redis"]));
    // Bound values never reach a span: statements keep their placeholders.
    expect(JSON.stringify(databaseCalls)).not.toContain(checkout.email);
  });

  test("when the checkout's spans are read, then each kind carries the attributes the telemetry registry lists for it, under current semantic-convention names", () => {
    const { spans } = spanIndex(checkout.trace!);
    const ours = spans.filter((span) => span.service !== "envoy" && span.service !== "storefront");
    const rpc = (kind: string) => ours.filter((span) => span.kind === kind && span.tags[RPC_SYSTEM] !== undefined);
    const groups: Array<[keyof typeof SPANS, typeof spans]> = [
      ["rpcServer", rpc("server")],
      ["rpcClient", rpc("client")],
      ["publish", ours.filter((span) => span.kind === "producer")],
      ["process", ours.filter((span) => span.kind === "consumer")],
      ["mysql", ours.filter((span) => span.tags[DB_SYSTEM] === "mysql")],
      ["redis", ours.filter((span) => span.tags[DB_SYSTEM] === "redis")],
      ["providerCall", ours.filter((span) => span.name === SPANS.providerCall.name)],
      ["providerWebhook", ours.filter((span) => span.name === SPANS.providerWebhook.name)],
    ];
    for (const [key, group] of groups) {
      const spec: SpanSpec = SPANS[key];
      expect({ key, seen: group.length > 0 }).toEqual({ key, seen: true });
      const missing = group.flatMap((span) => spec.attributes.filter((name) => span.tags[name] === undefined).map((name) => `${span.name}: ${name}`));
      expect({ key, missing }).toEqual({ key, missing: [] });
      expect({ key, kinds: [...new Set(group.map((span) => span.kind))] }).toEqual({ key, kinds: [spec.kind] });
    }
    // Every attribute name on our spans is registered: nothing recorded under an old or unlisted name.
    const registered = new Set<string>(Object.keys(ATTRIBUTES));
    const sdkTags = /^(span\.kind|otel\..*|error|internal\.span\.format|telemetry\..*|service\..*|host\..*|process\..*|os\..*)$/;
    const unregistered = [...new Set(ours.flatMap((span) => Object.keys(span.tags)))].filter((name) => !registered.has(name) && !sdkTags.test(name));
    expect(unregistered).toEqual([]);
    // rpc.method is fully qualified, the span's own name; the status is the gRPC status name.
    for (const span of rpc("server")) expect(span.tags[RPC_METHOD]).toBe(span.name);
    const placeOrder = rpc("server").find((span) => span.name === "shopmesh.order.v1.OrderService/PlaceOrder")!;
    expect(placeOrder.tags[RPC_STATUS]).toBe("OK");
    // The edge speaks Connect JSON to order's HTTP/1.1 side; stubs speak gRPC.
    expect(placeOrder.tags[RPC_SYSTEM]).toBe("connectrpc");
    expect(new Set(rpc("client").map((span) => span.tags[RPC_SYSTEM]))).toEqual(new Set(["grpc"]));
    expect(rpc("client").every((span) => span.tags[SERVER_ADDRESS] === "127.0.0.1" && Number(span.tags[SERVER_PORT]) > 0)).toBe(true);
    // Messaging: `send <topic>` / `process <topic>`, with the partition and offset a consumer read.
    for (const span of ours.filter((span) => span.kind === "producer")) expect(span.name).toBe(`send ${String(span.tags[DESTINATION])}`);
    for (const span of ours.filter((span) => span.kind === "consumer")) {
      expect(span.name).toBe(`process ${String(span.tags[DESTINATION])}`);
      expect(Number(span.tags[OFFSET])).toBeGreaterThanOrEqual(0);
    }
  });

  test("when services call each other during the checkout, then each RPC edge is one the manifests declare, and order reaches every RPC service it declares", () => {
    const observed = rpcEdges(spanIndex(checkout.trace!));
    const rpcServices = new Set(
      Object.entries(manifests)
        .filter(([, manifest]) => manifest.kind !== "http")
        .map(([name]) => name),
    );
    // Service-to-service hops only: client -> envoy and envoy -> ratelimit belong to the edge.
    const undeclared = observed.filter(([from, to]) => rpcServices.has(from) && rpcServices.has(to) && !(manifests[from]?.calls ?? []).includes(to));
    expect(undeclared).toEqual([]);
    // identity is declared for its JWKS (fetched over HTTP, cached), not as an RPC on the checkout path.
    const declaredByOrder = (manifests["order"]!.calls ?? []).filter((name) => rpcServices.has(name) && name !== "identity");
    expect(declaredByOrder.length).toBeGreaterThan(0);
    expect(
      observed
        .filter(([from]) => from === "order")
        .map(([, to]) => to)
        .sort(),
    ).toEqual(expect.arrayContaining(declaredByOrder));
  });

  test("when the customer places the order, then PlaceOrder reads each fact once: the priced cart and the customer in parallel, one reservation, one payment intent, the order row written once", () => {
    const cost = requestCost(spanIndex(checkout.trace!), "order", "shopmesh.order.v1.OrderService/PlaceOrder");
    // The cart answers with catalog prices and stock, so order does not ask the catalog again.
    expect(cost.rpcCalls).toEqual([
      "cart>catalog/BatchGetProducts",
      "cart>inventory/BatchGetStock",
      "order>cart/ClearCart",
      "order>cart/GetCart",
      "order>identity/GetMe",
      "order>inventory/ReserveStock",
      "order>payment/CreatePaymentIntent",
    ]);
    // One look for a replay, then BEGIN, the row (with its payment), its one line, OrderPlaced, COMMIT: no re-read, no second write.
    expect(cost.sqlStatements["order"]).toBe(6);
    expect(total(cost.sqlStatements)).toBeLessThanOrEqual(20);
  });
});

describe("metrics", () => {
  test("when the checkout ran, then every service exports RED, outbox, consumer, pool and cache series, and the ones it touched moved", () => {
    const count = (name: string, metric: string, match: Record<string, string> = {}) =>
      checkout.metricsAfter.get(name)!.sum(metric, match) - checkout.metricsBefore.get(name)!.sum(metric, match);
    for (const name of RPC_SERVICES) {
      const samples = checkout.metricsAfter.get(name)!;
      const families = ["shopmesh_rpc_server_duration_seconds", "shopmesh_rpc_client_duration_seconds", "shopmesh_rpc_server_in_flight"];
      if (manifests[name]!.kafka)
        families.push(
          "shopmesh_outbox_backlog",
          "shopmesh_outbox_published_total",
          "shopmesh_outbox_publish_latency_seconds",
          "shopmesh_events_processed_total",
          "shopmesh_consumer_lag",
          "shopmesh_event_retries_total",
          "shopmesh_event_dead_letters_total",
        );
      if (manifests[name]!.stores?.includes("mysql")) families.push("shopmesh_db_pool_connections", "shopmesh_db_pool_waiting_requests");
      expect({ name, missing: families.filter((family) => !samples.families.has(family)) }).toEqual({ name, missing: [] });
      if (manifests[name]!.stores?.includes("mysql"))
        expect({ name, pool: samples.has("shopmesh_db_pool_connections", { state: "max" }) }).toEqual({ name, pool: true });
    }
    expect(count("order", "shopmesh_rpc_server_duration_seconds_count", { method: "PlaceOrder", code: "OK" })).toBe(1);
    expect(count("order", "shopmesh_rpc_client_duration_seconds_count", { target: "shopmesh.payment.v1.PaymentService" })).toBeGreaterThanOrEqual(1);
    expect(count("order", "shopmesh_outbox_published_total")).toBeGreaterThanOrEqual(1);
    expect(count("order", "shopmesh_outbox_publish_latency_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(checkout.metricsAfter.get("order")!.sum("shopmesh_outbox_backlog")).toBe(0);
    expect(count("payment", "shopmesh_outbox_published_total")).toBeGreaterThanOrEqual(1);
    for (const name of ["notification", "delivery", "order"]) {
      expect({ name, processed: count(name, "shopmesh_events_processed_total", { outcome: "applied" }) > 0 }).toEqual({ name, processed: true });
      expect({ name, lag: checkout.metricsAfter.get(name)!.has("shopmesh_consumer_lag") }).toEqual({ name, lag: true });
      expect({ name, latency: count(name, "shopmesh_event_end_to_end_latency_seconds_count") > 0 }).toEqual({ name, latency: true });
    }
    expect(count("ratelimit", "shopmesh_ratelimit_decisions_total")).toBeGreaterThanOrEqual(3);
    expect(count("catalog", "shopmesh_cache_requests_total")).toBeGreaterThanOrEqual(1);
    // A gauge read at scrape time: the pool that served the checkout holds connections, within its limit.
    const orderPool = (state: string) => checkout.metricsAfter.get("order")!.sum("shopmesh_db_pool_connections", { state });
    expect(orderPool("open")).toBeGreaterThanOrEqual(1);
    expect(orderPool("open")).toBeLessThanOrEqual(orderPool("max"));
  });
});

describe("logs", () => {
  const checkoutLines = () =>
    [...mesh.processes].flatMap(([name, service]) => service.output.slice(checkout.logsFrom.get(name) ?? 0).map((line) => ({ name, line })));

  test("when the checkout ran, then every service wrote JSON lines and the ones inside its request and event handling carry its trace id", () => {
    // The provider simulator stands in for an external system: its logs are not the mesh's.
    const parsed = checkoutLines()
      .filter(({ name }) => name !== "payment-provider-sim")
      .map(({ name, line }) => ({ name, entry: JSON.parse(line) as Record<string, unknown> }));
    // Lines written while serving an RPC (the access line) or handling an event (consumer lines carry event_id).
    const inHandling = parsed.filter(({ entry }) => entry["msg"] === "rpc" || (entry["event_id"] !== undefined && entry["type"] !== undefined));
    expect(inHandling.length).toBeGreaterThan(10);
    expect(inHandling.filter(({ entry }) => !/^[0-9a-f]{32}$/.test(String(entry["trace_id"])) || !/^[0-9a-f]{16}$/.test(String(entry["span_id"])))).toEqual([]);
    const traced = new Set(parsed.filter(({ entry }) => entry["trace_id"] === checkout.traceId).map(({ name }) => name));
    expect([...traced].sort()).toEqual(expect.arrayContaining(["cart", "catalog", "inventory", "order", "payment", "ratelimit"]));
    // Handlers' own lines too: the order it placed, the webhook it applied.
    const lineOf = (name: string, msg: string) => parsed.find((line) => line.name === name && line.entry["msg"] === msg)?.entry;
    expect(lineOf("order", "order placed")?.["trace_id"]).toBe(checkout.traceId);
    expect(lineOf("payment", "webhook applied")?.["trace_id"]).toBe(checkout.traceId);
  });

  test("when the checkout's logs are asked for by its trace id, then npm run logs merges every service's lines of it in time order", async () => {
    const dir = await mkdtemp(join(tmpdir(), "observability-logs-"));
    try {
      for (const [name, service] of mesh.processes) await writeFile(join(dir, `${name}.log`), service.output.join("\n"));
      const output = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [join(REPO_ROOT, "scripts", "logs.mjs"), "--trace", checkout.traceId, "--dir", dir, "--json"], (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        ),
      );
      const entries = output
        .trimEnd()
        .split("\n")
        .map((text) => JSON.parse(text) as { file: string; time: string; trace_id: string; msg: string });
      expect(entries.every((entry) => entry.trace_id === checkout.traceId)).toBe(true);
      expect(entries.map((entry) => entry.time)).toEqual(entries.map((entry) => entry.time).sort());
      expect([...new Set(entries.map((entry) => entry.file))]).toEqual(expect.arrayContaining(["order", "payment", "cart", "inventory"]));
      const expected = checkoutLines().filter(({ line }) => line.includes(`"trace_id":"${checkout.traceId}"`)).length;
      expect(entries.length).toBeGreaterThanOrEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("when the checkout ran, then no log line holds a password, a token, a card number, a client secret or the full email", () => {
    const leaks = checkoutLines().filter(({ line }) =>
      [PASSWORD, checkout.token, CARD_OK, checkout.clientSecret, checkout.email].some((secret) => secret && line.includes(secret)),
    );
    expect(leaks).toEqual([]);
  });
});

describe("ops/", () => {
  test("when Prometheus loads ops/prometheus.yml or the local variant, then it scrapes /metrics of every service at its manifest port", async () => {
    const { prometheus, localPrometheus } = await readOpsFiles();
    for (const [config, host] of [
      [prometheus, (name: string) => name],
      [localPrometheus, () => "127.0.0.1"],
    ] as const) {
      const targets = prometheusScrapeTargets(config).map(({ service, target, path }) => ({ service, target, path }));
      for (const name of RPC_SERVICES) expect(targets).toContainEqual({ service: name, target: `${host(name)}:${manifests[name]!.port}`, path: "/metrics" });
    }
  });

  test("when a service's series are scraped, then the target label is service_name, which no exported series uses for anything else, and the metrics' own service label survives", async () => {
    const { prometheus, localPrometheus } = await readOpsFiles();
    const exposed = [...checkout.metricsAfter.values()];
    for (const config of [prometheus, localPrometheus]) {
      for (const target of prometheusScrapeTargets(config).filter((t) => t.path === "/metrics")) {
        // A target label named like an exposed one renames the exposed one to exported_<name> unless honor_labels.
        expect({ target: target.target, labels: target.labels, honorLabels: target.honorLabels }).toEqual({
          target: target.target,
          labels: ["service_name"],
          honorLabels: true,
        });
      }
    }
    // The services label every series with the same service_name the target gives them.
    for (const [name, samples] of checkout.metricsAfter)
      expect({ name, labelled: samples.has("process_cpu_user_seconds_total", { service_name: name }) }).toEqual({ name, labelled: true });
    expect(exposed.some((samples) => samples.has("shopmesh_rpc_server_duration_seconds_count", { service: "shopmesh.order.v1.OrderService" }))).toBe(true);
  });

  test("when the Grafana dashboard and the page Prometheus serves are loaded, then they hold the same queries, each using only metrics the services really export", async () => {
    const { dashboard, panels } = await readOpsFiles();
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(8);
    expect(panels.rows.flatMap((row) => row.panels.flatMap((panel) => panel.queries.map((query) => query.expr)))).toEqual(queries);
    const exported = exportedMetricNames([...checkout.metricsAfter.values()]);
    const unknown = queries.flatMap((query) =>
      metricNamesIn(query)
        .filter((metric) => !exported.has(metric))
        .map((metric) => ({ query, metric })),
    );
    expect(unknown).toEqual([]);
  });
});

describe("the README's pictures", () => {
  test("when the checkout's trace and the shop's metrics are opened in the browser, then the trace view and the dashboard show them, and docs/ gets both pictures", async () => {
    const prometheus = await startPrometheus({ ...Object.fromEntries(RPC_SERVICES.map((name) => [name, mesh.ports[name]!])), envoy: edge.adminPort });
    const traceView = await serveTraceView();
    const browser = await launchChromium();
    try {
      // The generated config scrapes every service under the service_name it exposes.
      const up = await eventually(
        async () => {
          const samples = await prometheus.query(`up{job="shopmesh"} == 1`);
          return samples.length === RPC_SERVICES.length ? samples : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 500, what: "every service scraped by Prometheus" },
      );
      expect(up.map((sample) => sample.metric["service_name"]).sort()).toEqual([...RPC_SERVICES].sort());
      // Traffic while Prometheus scrapes every second, until the rates move on the dashboard.
      const catalog = viaEdge(CatalogService);
      const orders = viaEdge(OrderService, { authorization: `Bearer ${checkout.token}` });
      let rounds = 0;
      const rates = await eventually(
        async () => {
          for (let i = 0; i < 4; i++) {
            await Promise.all([catalog.listProducts({ pageSize: 5 }), catalog.listCategories({}), orders.getOrder({ orderId: checkout.orderId })]);
            await catalog.getProduct({ productId: "00000000-0000-0000-0000-000000000000" }).catch(() => undefined);
          }
          rounds++;
          const samples = await prometheus.query(`sum by (service_name, service, method) (rate(shopmesh_rpc_server_duration_seconds_count[1m])) > 0`);
          // A few rounds more than the first moving sample, so the lines have some length.
          return rounds >= 12 && samples.some((sample) => sample.metric["method"] === "ListProducts") ? samples : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: "RPC rates in Prometheus" },
      );
      // The RPC metrics keep their own `service` label beside service_name: nothing was renamed to exported_*.
      expect(rates.find((sample) => sample.metric["method"] === "ListProducts")?.metric).toEqual({
        service_name: "catalog",
        service: "shopmesh.catalog.v1.CatalogService",
        method: "ListProducts",
      });
      expect(await prometheus.query(`count({exported_service!=""} or {exported_service_name!=""})`)).toEqual([]);

      const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
      await page.goto(`${traceView.url}/trace/${checkout.traceId}`);
      await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
      // One row per span: at least the spans of the complete trace read above (late ones may have joined since).
      expect(await page.locator(".span-row").count()).toBeGreaterThanOrEqual(spanIndex(checkout.trace!).spans.length);
      await page.locator(".span-row", { hasText: "shopmesh.order.v1.OrderService/PlaceOrder" }).first().click();
      await page.waitForSelector(".span-tags");
      expect(await page.locator(".span-tags").innerText()).toContain("rpc.system.name");
      await page.screenshot({ path: join(REPO_ROOT, "docs", "jaeger-trace.png") });

      // A minute: this Prometheus has seen only the last seconds.
      await page.goto(`${prometheus.url}/user/?range=1m`);
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      expect(await page.locator(".panel .error").count()).toBe(0);
      expect(await page.locator(".panel path").count()).toBeGreaterThan(5);
      await page.screenshot({ path: join(REPO_ROOT, "docs", "dashboard.png"), fullPage: true });
    } finally {
      await browser.close();
      await traceView.close();
      await prometheus.stop();
    }
  }, 60_000);
});
