/**
 * The topology of shopmesh: every deployable service, the Kafka topics between them and the
 * infrastructure they run on. The one home of these facts: Envoy, Kubernetes, compose, the
 * local stack, the tests, the benchmark, Prometheus, scripts/infra/topics.txt and
 * docs/ports.md read it or are generated from it (tools/topology-gen, tools/envoy-gen, tools/deploy-gen).
 *
 * It imports nothing, so plain-node scripts load its build as `@shopmesh/platform/topology`.
 */

/** Where every server binds and every default address points locally (npm start, tests, bench). */
export const LOCAL_HOST = "127.0.0.1";

/** A Kafka topic: one per producing context, events keyed by aggregate id. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

/** Every topic, by the context that produces it. Each has a dead-letter twin (see deadLetterTopic). */
const topics = {
  identity: { name: "shopmesh.identity.v1", partitions: 3 },
  catalog: { name: "shopmesh.catalog.v1", partitions: 3 },
  inventory: { name: "shopmesh.inventory.v1", partitions: 3 },
  order: { name: "shopmesh.order.v1", partitions: 3 },
  payment: { name: "shopmesh.payment.v1", partitions: 3 },
  delivery: { name: "shopmesh.delivery.v1", partitions: 3 },
  notification: { name: "shopmesh.notification.v1", partitions: 3 },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof topics;

/** Partitions of every dead-letter topic: they are read by hand, order does not matter. */
export const DEAD_LETTER_PARTITIONS = 1;

/** Where a consumer parks an event it cannot handle. */
export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

export type Store = "mysql" | "redis" | "opensearch";

/**
 * A value of an environment variable: a literal, or the HTTP base URL of another service
 * (`http://<address of urlOf><path>`), its address as the deployment names it.
 */
export type EnvValue<N extends string = string> = string | { readonly urlOf: N; readonly path?: string };

/** One deployable service. `N` is the set of service names, so every reference is checked. */
export interface ServiceSpec<N extends string = string> {
  /** The one port (gRPC h2c and HTTP/1.1) and the variable that overrides it. */
  readonly port: number;
  readonly portEnv: string;
  /** "grpc": a contract service behind Envoy with gRPC probes; "http": plain HTTP, not behind Envoy. */
  readonly kind: "grpc" | "http";
  readonly description: string;
  /** The gRPC service it implements when that is not a shopmesh contract (`<package>.<Service>`). */
  readonly implements?: string;
  /** The MySQL schema it owns and the variable that names it. */
  readonly database?: { readonly name: string; readonly env: string };
  readonly stores: readonly Store[];
  /** Services it calls: gRPC callees are found through `<CALLEE>_ADDR`; all become NetworkPolicy rules. */
  readonly calls: readonly N[];
  readonly produces: readonly TopicKey[];
  readonly consumes: readonly TopicKey[];
  /** Sends mail (SMTP). */
  readonly smtp?: boolean;
  /** Deployed locally, in compose and the dev overlay only: a stand-in for an external system. */
  readonly devOnly?: boolean;
  /** Extra variables, the same in every deployment. */
  readonly env?: Readonly<Record<string, EnvValue<N>>>;
  /** Variables read from the Secret `<service>-secrets`. */
  readonly secretEnv?: readonly string[];
  /** `{ VAR: file }` read from the Secret `<service>-files` mounted read-only; VAR holds the path. */
  readonly secretFiles?: Readonly<Record<string, string>>;
}

function defineServices<const S extends { readonly [K in keyof S]: ServiceSpec<Extract<keyof S, string>> }>(services: S): S {
  return services;
}

const services = defineServices({
  identity: {
    port: 50051,
    portEnv: "IDENTITY_PORT",
    kind: "grpc",
    description: "accounts, tokens, JWKS",
    database: { name: "shopmesh_identity", env: "IDENTITY_DATABASE" },
    stores: ["mysql", "redis"],
    calls: [],
    produces: ["identity"],
    consumes: [],
    secretEnv: ["IDENTITY_ADMIN_EMAIL", "IDENTITY_ADMIN_PASSWORD"],
    secretFiles: { JWT_SIGNING_KEY_FILE: "jwt-signing-key.pem" },
  },
  catalog: {
    port: 50052,
    portEnv: "CATALOG_PORT",
    kind: "grpc",
    description: "products, categories, search",
    database: { name: "shopmesh_catalog", env: "CATALOG_DATABASE" },
    stores: ["mysql", "redis", "opensearch"],
    calls: ["identity"],
    produces: ["catalog"],
    // Its own product events feed the search index; inventory's stock events, the "in stock" filter.
    consumes: ["catalog", "inventory"],
  },
  cart: {
    port: 50053,
    portEnv: "CART_PORT",
    kind: "grpc",
    description: "carts in Redis",
    stores: ["redis"],
    calls: ["identity", "catalog", "inventory"],
    produces: [],
    consumes: [],
  },
  order: {
    port: 50054,
    portEnv: "ORDER_PORT",
    kind: "grpc",
    description: "orders, checkout, live order status",
    database: { name: "shopmesh_order", env: "ORDER_DATABASE" },
    stores: ["mysql", "redis"],
    calls: ["identity", "cart", "inventory", "payment"],
    produces: ["order"],
    consumes: ["payment", "delivery"],
  },
  payment: {
    port: 50055,
    portEnv: "PAYMENT_PORT",
    kind: "grpc",
    description: "payment intents, provider webhooks, ledger, refunds",
    database: { name: "shopmesh_payment", env: "PAYMENT_DATABASE" },
    stores: ["mysql"],
    calls: ["identity", "payment-provider-sim"],
    produces: ["payment"],
    consumes: ["order"],
    secretEnv: ["PAYMENT_WEBHOOK_SECRET"],
    env: { PAYMENT_PROVIDER_URL: { urlOf: "payment-provider-sim" } },
  },
  inventory: {
    port: 50056,
    portEnv: "INVENTORY_PORT",
    kind: "grpc",
    description: "stock levels and order reservations",
    database: { name: "shopmesh_inventory", env: "INVENTORY_DATABASE" },
    stores: ["mysql"],
    calls: ["identity"],
    produces: ["inventory"],
    consumes: ["order"],
  },
  delivery: {
    port: 50057,
    portEnv: "DELIVERY_PORT",
    kind: "grpc",
    description: "delivery partners, assignment and tracking",
    database: { name: "shopmesh_delivery", env: "DELIVERY_DATABASE" },
    stores: ["mysql"],
    calls: ["identity"],
    produces: ["delivery"],
    consumes: ["order"],
  },
  notification: {
    port: 50058,
    portEnv: "NOTIFICATION_PORT",
    kind: "grpc",
    description: "templated email and SMS",
    database: { name: "shopmesh_notification", env: "NOTIFICATION_DATABASE" },
    stores: ["mysql"],
    calls: ["identity"],
    produces: ["notification"],
    consumes: ["identity", "order", "payment", "delivery", "inventory"],
    smtp: true,
  },
  ratelimit: {
    port: 50059,
    portEnv: "RATELIMIT_PORT",
    kind: "grpc",
    description: "edge rate limits (Envoy RLS on Redis)",
    implements: "envoy.service.ratelimit.v3.RateLimitService",
    stores: ["redis"],
    calls: [],
    produces: [],
    consumes: [],
  },
  "payment-provider-sim": {
    port: 50065,
    portEnv: "PAYMENT_SIM_PORT",
    kind: "http",
    description: "payment provider simulator (external system stand-in)",
    stores: [],
    calls: ["payment"],
    produces: [],
    consumes: [],
    devOnly: true,
    secretEnv: ["PAYMENT_WEBHOOK_SECRET"],
    env: { PAYMENT_WEBHOOK_URL: { urlOf: "payment", path: "/webhooks/provider" } },
  },
});

export type ServiceName = keyof typeof services;

/** A server beside the services (infrastructure, the edge, the storefront); `host` names it in compose and Kubernetes. */
export interface InfraSpec {
  readonly port: number;
  readonly env: string;
  readonly host: string;
  /** Its row in docs/ports.md. */
  readonly label: string;
}

const infrastructure = {
  edge: { port: 8080, env: "EDGE_PORT", host: "envoy", label: "edge (Envoy)" },
  envoyAdmin: { port: 9901, env: "ENVOY_ADMIN_PORT", host: "envoy", label: "Envoy admin" },
  mysql: { port: 3306, env: "MYSQL_PORT", host: "mysql", label: "MariaDB" },
  redis: { port: 6379, env: "REDIS_PORT", host: "redis", label: "Redis" },
  kafka: { port: 9092, env: "KAFKA_PORT", host: "kafka", label: "Kafka" },
  kafkaController: { port: 9093, env: "KAFKA_CONTROLLER_PORT", host: "kafka", label: "Kafka controller" },
  jaegerUi: { port: 16686, env: "JAEGER_UI_PORT", host: "jaeger", label: "Jaeger UI / query API" },
  jaegerQueryGrpc: { port: 16685, env: "JAEGER_QUERY_GRPC_PORT", host: "jaeger", label: "Jaeger query gRPC" },
  otlpGrpc: { port: 4317, env: "OTLP_GRPC_PORT", host: "jaeger", label: "OTLP gRPC" },
  otlpHttp: { port: 4318, env: "OTLP_HTTP_PORT", host: "jaeger", label: "OTLP HTTP" },
  mailpitUi: { port: 8025, env: "MAILPIT_UI_PORT", host: "mailpit", label: "Mailpit UI+API" },
  smtp: { port: 1025, env: "SMTP_PORT", host: "mailpit", label: "Mailpit SMTP" },
  toxiproxyApi: { port: 8474, env: "TOXIPROXY_PORT", host: "toxiproxy", label: "Toxiproxy API (fault tests)" },
  opensearch: { port: 9200, env: "OPENSEARCH_PORT", host: "opensearch", label: "OpenSearch (HTTP API)" },
  opensearchTransport: { port: 9300, env: "OPENSEARCH_TRANSPORT_PORT", host: "opensearch", label: "OpenSearch transport (or the next free, up to +99)" },
  prometheus: { port: 9090, env: "PROMETHEUS_PORT", host: "prometheus", label: "Prometheus (API; the dashboard at /user/)" },
} as const satisfies Record<string, InfraSpec>;

export type InfraName = keyof typeof infrastructure;

/**
 * The storefront (web/, served by scripts/web/serve.mjs): built here, but no mesh service. The
 * scripts that run before the build and the storefront image repeat its port; test/topology checks them.
 */
const storefront = { port: 5173, env: "STOREFRONT_PORT", host: "web", label: "storefront" } as const satisfies InfraSpec;

/**
 * A topology of this shape, for what renders from one: the generators take it as a parameter
 * (defaulting to `topology`), so a test can add a service to a copy and see every output pick it up.
 */
export interface Topology {
  readonly services: Readonly<Record<string, ServiceSpec>>;
  readonly infrastructure: typeof infrastructure;
  readonly storefront: InfraSpec;
  readonly topics: Readonly<Record<TopicKey, TopicSpec>>;
}

/** The whole topology: `topology.services.inventory.port`, `topology.infrastructure.kafka.port`, `topology.storefront.port`. */
export const topology = { services, infrastructure, storefront, topics } as const satisfies Topology;

/** One service's entry, with every optional field visible to the type. */
export function serviceSpec(name: ServiceName): ServiceSpec<ServiceName> {
  return services[name];
}

/** Every service, lowest port first (the order the stack starts and lists them); of `of` when given. */
export function servicesByPort(): Array<[ServiceName, ServiceSpec<ServiceName>]>;
export function servicesByPort(of: Topology): Array<[string, ServiceSpec]>;
export function servicesByPort(of: Topology = topology): Array<[string, ServiceSpec]> {
  return Object.entries(of.services).sort(([, a], [, b]) => a.port - b.port);
}

/** The variable through which callers find a service: `payment-provider-sim` -> `PAYMENT_PROVIDER_SIM_ADDR`. */
export function addressEnv(name: ServiceName): string {
  return `${name.toUpperCase().replace(/-/g, "_")}_ADDR`;
}

/** A Kafka client: it produces or consumes events. */
export const usesKafka = (service: ServiceSpec) => service.produces.length + service.consumes.length > 0;

/** `127.0.0.1:<default port>`: where a service or server listens locally unless its port variable says otherwise. */
export function localAddress(name: ServiceName | InfraName): string {
  return `${LOCAL_HOST}:${name in services ? services[name as ServiceName].port : infrastructure[name as InfraName].port}`;
}

/** A service's `env`, with every service URL resolved through `address` (`host:port` as the deployment names it). */
export function resolveEnv(name: ServiceName, address: (service: ServiceName) => string): Record<string, string>;
export function resolveEnv(name: string, address: (service: string) => string, of: Topology): Record<string, string>;
export function resolveEnv(name: string, address: (service: ServiceName) => string, of: Topology = topology): Record<string, string> {
  return Object.fromEntries(
    Object.entries(of.services[name]?.env ?? {}).map(([variable, value]) => [
      variable,
      typeof value === "string" ? value : `http://${address(value.urlOf as ServiceName)}${value.path ?? ""}`,
    ]),
  );
}

/** Every default port by the variable that overrides it: services, infrastructure and the storefront. */
export function portDefaults(of: Topology = topology): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const [, service] of servicesByPort(of)) ports[service.portEnv] = service.port;
  for (const endpoint of [...Object.values(of.infrastructure), of.storefront]) ports[endpoint.env] = endpoint.port;
  return ports;
}

/** Every topic to create, dead-letter twins after the topics (the order of scripts/infra/topics.txt). */
export function declaredTopics(of: Topology = topology): TopicSpec[] {
  const all = Object.values(of.topics);
  return [...all, ...all.map((topic) => ({ name: deadLetterTopic(topic.name), partitions: DEAD_LETTER_PARTITIONS }))];
}
