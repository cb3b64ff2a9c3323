import { declaredTopics, resolveEnv, servicesByPort, usesKafka, type InfraName, type Store, type Topology, type TopicSpec } from "@shopmesh/platform/topology";

/** JSON-shaped data: what a Kubernetes object or a compose file is. */
export type Json = string | number | boolean | null | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

/** One service as the deployment sees it: its topology entry with the defaults applied and service URLs resolved. */
export interface DeployService {
  name: string;
  /** The one port (gRPC h2c and HTTP/1.1) and the variable that sets it. */
  port: number;
  portEnv: string;
  /** "grpc": gRPC probes, behind Envoy; "http": HTTP probes, not behind Envoy. */
  kind: "grpc" | "http";
  /** gRPC callees become `<CALLEE>_ADDR`; every callee becomes a NetworkPolicy allow rule. */
  calls: string[];
  /** Each store gives a connection Secret, a client label and egress to it. */
  stores: Store[];
  /** Produces or consumes a topic. */
  kafka: boolean;
  smtp: boolean;
  /** Extra variables, service URLs resolved to `<name>:<port>` (the same in compose and Kubernetes). */
  env: Record<string, string>;
  /** Variables read from the Secret `<service>-secrets`. */
  secretEnv: string[];
  /** `{ VAR: file }` read from the Secret `<service>-files` mounted read-only; VAR holds the path. */
  secretFiles: Record<string, string>;
  /** Deployed in compose and the dev overlay only (a stand-in for an external system). */
  devOnly: boolean;
}

/** Public images, each pinned to an exact tag; ours are built from ./Dockerfile. */
export interface Images {
  envoy: string;
  kafka: string;
  mariadb: string;
  redis: string;
  opensearch: string;
  jaeger: string;
  prometheus: string;
  mailpit: string;
}

/** Everything the manifests and compose.yaml are rendered from. */
export interface DeployModel {
  services: DeployService[];
  /** Every topic to create, dead-letter twins included. */
  topics: TopicSpec[];
  /** Infrastructure ports by name (`ports.kafka`). */
  ports: Record<InfraName, number>;
  storefrontPort: number;
  images: Images;
  /** The Kafka version Strimzi runs in prod (the same as the local broker's). */
  kafkaVersion: string;
}

/** Envoy's Kubernetes variant addresses services as `<name>.shopmesh.svc.cluster.local`. */
export const NAMESPACE = "shopmesh";
/** distroless "nonroot" */
const UID = 65532;
export const SECRET_FILES_DIR = "/var/run/secrets/shopmesh";

/** Releases the local infrastructure runs (scripts/infra/versions.env), without a leading "v". */
export interface InfraVersions {
  kafka: string;
  envoy: string;
  opensearch: string;
  jaeger: string;
  prometheus: string;
  mailpit: string;
}

/** The images, at the releases the local infrastructure runs (MariaDB and Redis come from Debian's apt there). */
export function images(versions: InfraVersions): Images {
  return {
    envoy: `envoyproxy/envoy:v${versions.envoy}`,
    kafka: `apache/kafka:${versions.kafka}`,
    mariadb: "mariadb:10.11.14",
    redis: "redis:7.4.6-alpine",
    opensearch: `opensearchproject/opensearch:${versions.opensearch}`,
    jaeger: `jaegertracing/jaeger:${versions.jaeger}`,
    prometheus: `prom/prometheus:v${versions.prometheus}`,
    mailpit: `axllent/mailpit:v${versions.mailpit}`,
  };
}

export const ownImage = (service: string) => `shopmesh/${service}`;

/** The stores a service may declare; each has a Secret shopmesh-<store>, a client label and an egress policy. */
const STORES: readonly Store[] = ["mysql", "redis", "opensearch"];

/** The deployment's view of every service of `topology`, lowest port first. */
export function deployServices(topology: Topology): DeployService[] {
  const address = (name: string) => `${name}:${topology.services[name]!.port}`;
  return servicesByPort(topology).map(([name, s]) => ({
    name,
    port: s.port,
    portEnv: s.portEnv,
    kind: s.kind,
    calls: [...s.calls],
    stores: [...s.stores],
    kafka: usesKafka(s),
    smtp: s.smtp === true,
    env: resolveEnv(name, address, topology),
    secretEnv: [...(s.secretEnv ?? [])],
    secretFiles: { ...(s.secretFiles ?? {}) },
    devOnly: s.devOnly === true,
  }));
}

/** Throws naming every entry the manifests cannot be rendered from. */
export function validate(services: DeployService[]): void {
  const names = new Set(services.map((s) => s.name));
  const problems: string[] = [];
  for (const s of services) {
    if (!Number.isInteger(s.port) || !/^[A-Z][A-Z0-9_]*$/.test(s.portEnv)) problems.push(`${s.name}: port/portEnv missing or malformed`);
    for (const callee of s.calls) if (!names.has(callee)) problems.push(`${s.name}: calls unknown service ${callee}`);
    for (const store of s.stores) if (!STORES.includes(store)) problems.push(`${s.name}: unknown store ${store}`);
    const prodCallees = s.calls.filter((c) => services.find((x) => x.name === c)?.devOnly);
    if (!s.devOnly && prodCallees.length > 0 && !prodCallees.every((c) => Object.values(s.env).some((v) => v.includes(c)))) {
      problems.push(`${s.name}: calls dev-only ${prodCallees.join(", ")} without an env override naming it`);
    }
  }
  if (problems.length) throw new Error(`bad topology:\n  ${problems.join("\n  ")}`);
}

/** The model of `topology`, validated. */
export function deployModel(topology: Topology, versions: InfraVersions): DeployModel {
  const services = deployServices(topology);
  validate(services);
  const ports = Object.fromEntries(Object.entries(topology.infrastructure).map(([name, endpoint]) => [name, endpoint.port])) as Record<InfraName, number>;
  return {
    services,
    topics: declaredTopics(topology).map(({ name, partitions }) => ({ name, partitions })),
    ports,
    storefrontPort: topology.storefront.port,
    images: images(versions),
    kafkaVersion: versions.kafka,
  };
}

/** The service named `name`; the model is validated, so every callee exists. */
export function serviceNamed(services: DeployService[], name: string): DeployService {
  const found = services.find((s) => s.name === name);
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

// ---------------------------------------------------------------- shared pieces of objects

export const labelsOf = (name: string, component = "service"): JsonObject => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/part-of": "shopmesh",
  "app.kubernetes.io/component": component,
});
export const selectorOf = (name: string): JsonObject => ({ "app.kubernetes.io/name": name });
export const podSel = (name: string): JsonObject => ({ podSelector: { matchLabels: selectorOf(name) } });
export const tcp = (...ports: number[]): JsonObject[] => ports.map((port) => ({ protocol: "TCP", port }));
export const grpcServices = (services: DeployService[]) => services.filter((s) => s.kind === "grpc");
export const callersOf = (services: DeployService[], name: string) => services.filter((s) => s.calls.includes(name));
export const envList = (record: Record<string, string>): JsonObject[] => Object.entries(record).map(([name, value]) => ({ name, value }));
export const hasSecretFiles = (s: DeployService) => Object.keys(s.secretFiles).length > 0;

/** Container hardening shared by every workload we build. */
export const restrictedContainer: JsonObject = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
};
export const restrictedPod = (uid = UID): JsonObject => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: "RuntimeDefault" },
});

export const nodeFetchProbe = (port: number, path: string) =>
  `fetch('http://127.0.0.1:${port}${path}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;

/** Writes a PKCS#8 P-256 key (ES256) for dev and compose only; production mounts a real Secret. */
export const KEYGEN_SCRIPT = [
  "const fs = require('node:fs'); const file = process.argv[1];",
  "if (!fs.existsSync(file)) {",
  "  const { privateKey } = require('node:crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' });",
  "  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });",
  "  if (process.getuid() === 0) fs.chownSync(file, 65532, 65532);",
  "}",
].join("\n");

/** Where compose mounts the secrets it generated on first start (never literals in compose.yaml). */
export const COMPOSE_SECRETS_DIR = "/var/run/secrets/shopmesh/compose";

/** A variable that holds a secret (a password or a shared secret), as opposed to a setting such as an email. */
export const isSecretVariable = (variable: string) => /(?:PASSWORD|SECRET)$/.test(variable);

/** The file compose keeps a secret variable in: MYSQL_PASSWORD -> mysql-password. */
export const composeSecretFile = (variable: string) => variable.toLowerCase().replace(/_/g, "-");

/** Writes a random secret to each file named that does not exist yet: idempotent across restarts. */
export const SECRETS_SCRIPT = [
  "const fs = require('node:fs'); const { randomBytes } = require('node:crypto');",
  "for (const file of process.argv.slice(1)) {",
  "  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o444 });",
  "}",
].join("\n");

/** Single-node OpenSearch for dev and compose: plain HTTP, no security plugin, a small heap. */
export const OPENSEARCH_ENV: Record<string, string> = {
  "discovery.type": "single-node",
  DISABLE_SECURITY_PLUGIN: "true",
  DISABLE_INSTALL_DEMO_CONFIG: "true",
  OPENSEARCH_JAVA_OPTS: "-Xms512m -Xmx512m",
};

/**
 * One broker that is its own KRaft controller (compose and the dev overlay): topics are created
 * by a job, never on first use, like production. `extra` goes after the quorum voters.
 */
export function singleNodeKafkaEnv(
  ports: Record<InfraName, number>,
  advertisedHost: string,
  quorumHost: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_NODE_ID: "1",
    KAFKA_PROCESS_ROLES: "broker,controller",
    KAFKA_LISTENERS: `PLAINTEXT://:${ports.kafka},CONTROLLER://:${ports.kafkaController}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${advertisedHost}:${ports.kafka}`,
    KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    KAFKA_CONTROLLER_QUORUM_VOTERS: `1@${quorumHost}:${ports.kafkaController}`,
    ...extra,
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
    KAFKA_HEAP_OPTS: "-Xms256m -Xmx512m",
  };
}

/** The services create their own shopmesh_<service> databases, so the dev user needs global grants. */
export const GRANTS_SQL = "GRANT ALL ON *.* TO 'shopmesh'@'%' WITH GRANT OPTION;\n";

const DEV_SECRET_VALUES: Record<string, string> = {
  IDENTITY_ADMIN_EMAIL: "admin@shopmesh.local",
  IDENTITY_ADMIN_PASSWORD: "admin-password",
  PAYMENT_WEBHOOK_SECRET: "whsec_dev_shopmesh",
};

/** The value a secret variable has in dev and compose (fine to read in git). */
export const devSecretValue = (variable: string) => DEV_SECRET_VALUES[variable] ?? `dev-${variable.toLowerCase()}`;
