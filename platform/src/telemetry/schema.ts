/**
 * Every name shopmesh emits, registered once: span names and their attributes, metric names,
 * types and labels, log fields. The code that records telemetry reads its names from here,
 * and docs/telemetry.md and the dashboards are generated from it (tools/topology-gen), as the
 * OpenTelemetry demo keeps its telemetry-schema. OpenTelemetry's own attribute names are the
 * constants of @opentelemetry/semantic-conventions (the `incubating` entry point for the ones
 * not yet stable), never string literals.
 *
 * It has no side effects, so generators load its build as `@shopmesh/platform/telemetry-schema`.
 */
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_CLOUDEVENTS_EVENT_ID,
  ATTR_CLOUDEVENTS_EVENT_SOURCE,
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_KAFKA_MESSAGE_KEY,
  ATTR_KAFKA_OFFSET,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  ATTR_URL_TEMPLATE,
} from "@opentelemetry/semantic-conventions/incubating";

// ---------------------------------------------------------------- span attributes

/** shopmesh's own span attributes: `shopmesh.<thing>`, for what no convention names. */
export const ATTR_SHOPMESH_SERVICE = "shopmesh.service";
export const ATTR_SHOPMESH_PROTOCOL = "shopmesh.protocol";
export const ATTR_SHOPMESH_PAYMENT_ID = "shopmesh.payment.id";
export const ATTR_SHOPMESH_WEBHOOK_TYPE = "shopmesh.webhook.type";
export const ATTR_SHOPMESH_WEBHOOK_EVENT_ID = "shopmesh.webhook.event_id";

/** Where an attribute's name comes from: a stable or incubating OpenTelemetry convention, or shopmesh. */
export type AttributeOrigin = "stable" | "incubating" | "shopmesh";

export interface AttributeSpec {
  readonly origin: AttributeOrigin;
  readonly brief: string;
}

/** Every span attribute shopmesh records (instrumentations' own included), with its origin. */
export const ATTRIBUTES = {
  [ATTR_RPC_SYSTEM_NAME]: { origin: "stable", brief: "`grpc` (gRPC and gRPC-Web) or `connectrpc` (the Connect protocol)" },
  [ATTR_RPC_METHOD]: { origin: "stable", brief: "fully qualified: `shopmesh.catalog.v1.CatalogService/GetProduct`" },
  [ATTR_RPC_STATUS_CODE]: { origin: "stable", brief: "the gRPC status as its name: `OK`, `NOT_FOUND`, `UNAVAILABLE`" },
  [ATTR_ERROR_TYPE]: { origin: "stable", brief: "the status name when the call failed (absent on success)" },
  [ATTR_SERVER_ADDRESS]: { origin: "stable", brief: "the callee's host as the caller addresses it" },
  [ATTR_SERVER_PORT]: { origin: "stable", brief: "the callee's port" },
  [ATTR_MESSAGING_SYSTEM_NAME]: { origin: "incubating", brief: "`kafka`" },
  [ATTR_MESSAGING_OPERATION_TYPE]: { origin: "incubating", brief: "`send` or `process`" },
  [ATTR_MESSAGING_OPERATION_NAME]: { origin: "incubating", brief: "`send` or `process` (the span name's first word)" },
  [ATTR_MESSAGING_DESTINATION_NAME]: { origin: "incubating", brief: "the topic, as the broker names it" },
  [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: { origin: "incubating", brief: "the partition the event was read from" },
  [ATTR_KAFKA_OFFSET]: { origin: "incubating", brief: "the event's offset in its partition" },
  [ATTR_KAFKA_MESSAGE_KEY]: { origin: "incubating", brief: "the aggregate id the event is keyed by" },
  [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: { origin: "incubating", brief: "the consuming service's group" },
  [ATTR_MESSAGING_MESSAGE_ID]: { origin: "incubating", brief: "the event id (the outbox row's id)" },
  [ATTR_CLOUDEVENTS_EVENT_ID]: { origin: "incubating", brief: "the CloudEvent `id` (= the message id)" },
  [ATTR_CLOUDEVENTS_EVENT_TYPE]: { origin: "incubating", brief: "the event's protobuf type: `shopmesh.events.v1.OrderPlaced`" },
  [ATTR_CLOUDEVENTS_EVENT_SOURCE]: { origin: "incubating", brief: "the CloudEvent `source`: the producing service" },
  [ATTR_DB_SYSTEM_NAME]: { origin: "stable", brief: "`mysql` (MariaDB through mysql2) or `redis`" },
  [ATTR_DB_NAMESPACE]: { origin: "stable", brief: "the MySQL schema (`shopmesh_order`)" },
  [ATTR_DB_OPERATION_NAME]: { origin: "stable", brief: "the SQL verb or Redis command: `SELECT`, `evalsha`" },
  [ATTR_DB_QUERY_TEXT]: { origin: "stable", brief: "SQL **masked** (literals replaced by `?`); Redis: the command name only" },
  [ATTR_HTTP_REQUEST_METHOD]: { origin: "stable", brief: "`POST`" },
  [ATTR_HTTP_ROUTE]: { origin: "stable", brief: "the webhook's route" },
  [ATTR_URL_TEMPLATE]: { origin: "incubating", brief: "the provider endpoint, without ids" },
  [ATTR_SHOPMESH_SERVICE]: { origin: "shopmesh", brief: "the serving process (`order`)" },
  [ATTR_SHOPMESH_PROTOCOL]: { origin: "shopmesh", brief: "the wire protocol: `grpc`, `grpc-web` or `connect`" },
  [ATTR_SHOPMESH_PAYMENT_ID]: { origin: "shopmesh", brief: "the payment the provider call is for" },
  [ATTR_SHOPMESH_WEBHOOK_TYPE]: { origin: "shopmesh", brief: "the provider's event type (`payment_intent.succeeded`)" },
  [ATTR_SHOPMESH_WEBHOOK_EVENT_ID]: { origin: "shopmesh", brief: "the provider's event id" },
} as const satisfies Record<string, AttributeSpec>;

export type AttributeName = keyof typeof ATTRIBUTES;

// ---------------------------------------------------------------- spans

export type SpanKindName = "server" | "client" | "producer" | "consumer" | "internal";

export interface SpanSpec {
  /** The span name, `{attribute}` where it is filled in. */
  readonly name: string;
  readonly kind: SpanKindName;
  /** What records it. */
  readonly source: string;
  /** Attributes every such span carries. */
  readonly attributes: readonly AttributeName[];
  /** Attributes it carries only sometimes, and when. */
  readonly conditional?: Readonly<Partial<Record<AttributeName, string>>>;
  readonly note?: string;
}

const RPC_ATTRIBUTES = [ATTR_RPC_SYSTEM_NAME, ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE] as const;

/** Every span shopmesh records, by where it is made; Envoy's own spans are listed in the docs only. */
export const SPANS = {
  rpcServer: {
    name: `{${ATTR_RPC_METHOD}}`,
    kind: "server",
    source: "the RPC pipeline, both transports (`platform/src/rpc/pipeline.ts`)",
    attributes: [...RPC_ATTRIBUTES, ATTR_SHOPMESH_SERVICE, ATTR_SHOPMESH_PROTOCOL],
    conditional: { [ATTR_ERROR_TYPE]: "the call failed" },
    note: "status ERROR only for server faults (INTERNAL, UNKNOWN, DATA_LOSS, UNAVAILABLE, DEADLINE_EXCEEDED, UNIMPLEMENTED)",
  },
  rpcClient: {
    name: `{${ATTR_RPC_METHOD}}`,
    kind: "client",
    source: "`createGrpcClient` stubs, one per call (retries included)",
    attributes: [...RPC_ATTRIBUTES, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT],
    conditional: { [ATTR_ERROR_TYPE]: "the call failed" },
    note: "`rpc.system.name` is `grpc`: stubs speak gRPC",
  },
  publish: {
    name: `send {${ATTR_MESSAGING_DESTINATION_NAME}}`,
    kind: "producer",
    source: "the outbox relay, one per event",
    attributes: [
      ATTR_MESSAGING_SYSTEM_NAME,
      ATTR_MESSAGING_OPERATION_TYPE,
      ATTR_MESSAGING_OPERATION_NAME,
      ATTR_MESSAGING_DESTINATION_NAME,
      ATTR_KAFKA_MESSAGE_KEY,
      ATTR_MESSAGING_MESSAGE_ID,
      ATTR_CLOUDEVENTS_EVENT_ID,
      ATTR_CLOUDEVENTS_EVENT_TYPE,
      ATTR_CLOUDEVENTS_EVENT_SOURCE,
    ],
    note: "no partition or offset: a batch send does not report where each message landed",
  },
  process: {
    name: `process {${ATTR_MESSAGING_DESTINATION_NAME}}`,
    kind: "consumer",
    source: "the event consumer, one per handled event",
    attributes: [
      ATTR_MESSAGING_SYSTEM_NAME,
      ATTR_MESSAGING_OPERATION_TYPE,
      ATTR_MESSAGING_OPERATION_NAME,
      ATTR_MESSAGING_DESTINATION_NAME,
      ATTR_MESSAGING_DESTINATION_PARTITION_ID,
      ATTR_KAFKA_OFFSET,
      ATTR_MESSAGING_CONSUMER_GROUP_NAME,
      ATTR_MESSAGING_MESSAGE_ID,
      ATTR_CLOUDEVENTS_EVENT_TYPE,
    ],
    conditional: { [ATTR_KAFKA_MESSAGE_KEY]: "the message has a key, as every outbox event has" },
  },
  mysql: {
    name: "`SELECT`, `INSERT`, ... (the SQL verb)",
    kind: "client",
    source: "`@opentelemetry/instrumentation-mysql2`",
    attributes: [ATTR_DB_SYSTEM_NAME, ATTR_DB_NAMESPACE, ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT],
    note: "`db.operation.name` is added by the platform's SDK set-up (the instrumentation names the span after the verb but does not record it)",
  },
  redis: {
    name: "`get`, `set`, `evalsha`, ... (the command)",
    kind: "client",
    source: "`@opentelemetry/instrumentation-ioredis`",
    attributes: [ATTR_DB_SYSTEM_NAME, ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT],
  },
  providerCall: {
    name: "payment_provider create_intent",
    kind: "client",
    source: "payment -> the provider's HTTP API",
    attributes: [ATTR_HTTP_REQUEST_METHOD, ATTR_URL_TEMPLATE, ATTR_SHOPMESH_PAYMENT_ID],
  },
  providerWebhook: {
    name: "POST /webhooks/provider",
    kind: "server",
    source: "payment's webhook",
    attributes: [ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_ROUTE, ATTR_SHOPMESH_WEBHOOK_TYPE, ATTR_SHOPMESH_WEBHOOK_EVENT_ID],
  },
} as const satisfies Record<string, SpanSpec>;

/** The name of an RPC span: the fully qualified method, `<package>.<Service>/<Method>`. */
export const rpcSpanName = (service: string, method: string) => `${service}/${method}`;

const GRPC_STATUS_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** `rpc.status_code` for gRPC: the status's canonical name (`NOT_FOUND`) from its number (5). */
export const grpcStatusName = (code: number): string => GRPC_STATUS_NAMES[code] ?? "UNKNOWN";

/** The name of an outbox relay's span for one event. */
export const publishSpanName = (topic: string) => `send ${topic}`;

/** The name of a consumer's span for one event. */
export const processSpanName = (topic: string) => `process ${topic}`;

// ---------------------------------------------------------------- metrics

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  /** The `# HELP` text. */
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Label values worth knowing, for the docs. */
  readonly labelValues?: Readonly<Record<string, string>>;
  /** How to read it, for the docs. */
  readonly meaning?: string;
  /** Who records it, when not every service. */
  readonly recordedBy?: string;
}

/** Every metric shopmesh exports; `service_name` (the process) is added to every series by the registry. */
export const METRICS = {
  rpcServerDuration: {
    name: "shopmesh_rpc_server_duration_seconds",
    type: "histogram",
    help: "Server-side RPC latency by method and status code.",
    labelNames: ["service", "method", "code", "transport"],
    labelValues: { service: "the proto service (`shopmesh.order.v1.OrderService`)", code: "`OK`, `NotFound`, ... (connect-es names)" },
    meaning: 'RED: `_count` = rate, `code!="OK"` = errors, buckets = duration',
  },
  rpcServerInFlight: {
    name: "shopmesh_rpc_server_in_flight",
    type: "gauge",
    help: "RPCs being served right now.",
    labelNames: ["service", "transport"],
    meaning: "RPCs being served",
  },
  rpcClientDuration: {
    name: "shopmesh_rpc_client_duration_seconds",
    type: "histogram",
    help: "Outgoing RPC latency by target service, method and status code.",
    labelNames: ["target", "method", "code"],
    meaning: "outgoing RPCs per downstream",
  },
  outboxBacklog: {
    name: "shopmesh_outbox_backlog",
    type: "gauge",
    help: "Outbox rows not yet published, by relay source (counted at scrape time).",
    labelNames: ["source"],
    meaning: "unpublished outbox rows (counted at scrape)",
  },
  outboxPublished: {
    name: "shopmesh_outbox_published_total",
    type: "counter",
    help: "Events the outbox relay published to Kafka, by topic.",
    labelNames: ["topic"],
    meaning: "events the relay published",
  },
  outboxPublishLatency: {
    name: "shopmesh_outbox_publish_latency_seconds",
    type: "histogram",
    help: "Time from the outbox row's commit to its publication on Kafka, by topic.",
    labelNames: ["topic"],
    meaning: "outbox row commit -> published on Kafka",
  },
  outboxPublishFailures: {
    name: "shopmesh_outbox_publish_failures_total",
    type: "counter",
    help: "Outbox relay batches that failed and will be retried.",
    labelNames: [],
    meaning: "relay batches that failed (retried)",
  },
  eventsProcessed: {
    name: "shopmesh_events_processed_total",
    type: "counter",
    help: "Events a consumer group handled, by outcome: applied, duplicate (skipped), dead_lettered, skipped (not handled here).",
    labelNames: ["group", "topic", "type", "outcome"],
    labelValues: { outcome: "`applied`, `duplicate` (redelivery skipped), `dead_lettered`, `skipped` (a type this consumer does not handle)" },
  },
  eventRetries: {
    name: "shopmesh_event_retries_total",
    type: "counter",
    help: "Failed attempts to apply an event that were retried with backoff.",
    labelNames: ["group", "topic"],
    meaning: "failed attempts retried with backoff",
  },
  eventDeadLetters: {
    name: "shopmesh_event_dead_letters_total",
    type: "counter",
    help: "Events sent to the dead-letter topic after their last attempt (or at once when poisonous).",
    labelNames: ["group", "topic"],
    meaning: "events this process sent to `<topic>.dlq`",
  },
  deadLetterMessages: {
    name: "shopmesh_dead_letter_messages",
    type: "gauge",
    help: "Messages in the dead-letter topic of each topic this process consumes (high minus low watermark, read at scrape time).",
    labelNames: ["topic"],
    meaning: "DLQ size: what sits in `<topic>.dlq`, whoever put it there (every consumer of the topic reports it: take `max by (topic)`)",
  },
  eventLatency: {
    name: "shopmesh_event_end_to_end_latency_seconds",
    type: "histogram",
    help: "Time from an event's creation (ce_time) to a consumer group finishing it.",
    labelNames: ["group", "topic"],
    meaning: "event lag: `ce_time` (creation) -> handled by the group",
  },
  consumerLag: {
    name: "shopmesh_consumer_lag",
    type: "gauge",
    help: "Messages between the group's position and the partition's high watermark, after each batch.",
    labelNames: ["group", "topic", "partition"],
    meaning: "messages behind the high watermark after each batch",
  },
  dbPoolConnections: {
    name: "shopmesh_db_pool_connections",
    type: "gauge",
    help: "MySQL pool connections by state: max (limit), open, idle, in_use; read at scrape time.",
    labelNames: ["database", "state"],
    labelValues: { state: "`max`, `open`, `idle`, `in_use`" },
    meaning: "MySQL pool usage (read at scrape)",
  },
  dbPoolWaiting: {
    name: "shopmesh_db_pool_waiting_requests",
    type: "gauge",
    help: "Callers waiting for a MySQL connection: queued because the pool is exhausted, or while one is opened.",
    labelNames: ["database"],
    meaning: "callers waiting for a connection: queued, or while one is opened",
  },
  cacheRequests: {
    name: "shopmesh_cache_requests_total",
    type: "counter",
    help: "Cache lookups by cache and result (hit, miss, or error when Redis failed).",
    labelNames: ["cache", "result"],
    labelValues: { result: "`hit`, `miss`, `error`" },
    meaning: "Redis cache-aside; hit ratio = hit / (hit + miss)",
    recordedBy: "catalog",
  },
  searchRequests: {
    name: "shopmesh_search_requests_total",
    type: "counter",
    help: "SearchProducts answers by backend: the search engine, or the database (no engine, or its fallback).",
    labelNames: ["backend"],
    meaning: "which backend answered a search",
    recordedBy: "catalog",
  },
  ratelimitDecisions: {
    name: "shopmesh_ratelimit_decisions_total",
    type: "counter",
    help: "Rate-limit decisions by class and outcome (ok, over_limit, error_allowed, error_denied).",
    labelNames: ["class", "decision"],
    labelValues: { decision: "`ok`, `over_limit`, `error_allowed`, `error_denied`" },
    meaning: "the ratelimit service's answers to Envoy",
    recordedBy: "ratelimit",
  },
} as const satisfies Record<string, MetricSpec>;

/** The label every series of a service carries: its name (OpenTelemetry's `service.name`). */
export const SERVICE_NAME_LABEL = "service_name";

// ---------------------------------------------------------------- logs

export interface LogFieldSpec {
  readonly fields: readonly string[];
  readonly when: string;
}

/** The fields of the services' JSON log lines (pino). */
export const LOG_FIELDS: readonly LogFieldSpec[] = [
  { fields: ["level", "time", "service", "msg"], when: "always" },
  {
    fields: ["trace_id", "span_id"],
    when: 'every line written while a span is active: inside an RPC, an event handler, a webhook; the RPC access line (`msg: "rpc"`, debug) carries them explicitly',
  },
  { fields: ["rpc", "code", "ms", "transport"], when: "the access line" },
  { fields: ["event_id", "type", "topic", "attempt"], when: "consumer lines (retries, dead letters)" },
  { fields: ["err"], when: "errors (pino's serializer)" },
];
