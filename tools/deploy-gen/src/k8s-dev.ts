import type { TopicSpec } from "@shopmesh/platform/topology";
import {
  devSecretValue,
  GRANTS_SQL,
  hasSecretFiles,
  KEYGEN_SCRIPT,
  labelsOf,
  NAMESPACE,
  OPENSEARCH_ENV,
  ownImage,
  podSel,
  restrictedContainer,
  restrictedPod,
  SECRET_FILES_DIR,
  selectorOf,
  singleNodeKafkaEnv,
  tcp,
  type DeployModel,
  type DeployService,
  type JsonObject,
} from "./model.js";

/** The files the dev Prometheus runs on: the generated scrape config and the dashboard it serves at /user/. */
export interface PrometheusFiles {
  /** ops/prometheus/prometheus.yml */
  config: string;
  /** ops/prometheus/dashboard/*, by file name. */
  dashboard: Record<string, string>;
}

const INFRA_RESOURCES: JsonObject = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };

interface ExtraMount {
  volume: JsonObject;
  mount: JsonObject;
}

interface StatefulInfra {
  name: string;
  image: string;
  port?: number;
  ports?: JsonObject[];
  /** Literal values, or a `valueFrom` source. */
  env?: Record<string, string | JsonObject>;
  args?: string[];
  command?: string[];
  probe: JsonObject;
  storage?: string;
  uid: number;
  mountPath?: string;
  readOnlyRoot?: boolean;
  extraMounts?: ExtraMount[];
  resources?: JsonObject;
}

/** A single-replica StatefulSet and its Service: dev's in-cluster infrastructure. */
function statefulInfra({
  name,
  image,
  port,
  ports,
  env = {},
  args,
  command,
  probe,
  storage,
  uid,
  mountPath,
  readOnlyRoot = true,
  extraMounts = [],
  resources = INFRA_RESOURCES,
}: StatefulInfra): JsonObject[] {
  const allPorts = ports ?? [{ name, containerPort: port!, protocol: "TCP" }];
  const mounts = [...(storage ? [{ name: "data", mountPath: mountPath! }] : []), { name: "tmp", mountPath: "/tmp" }, ...extraMounts.map((m) => m.mount)];
  return [
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name, labels: labelsOf(name, "infrastructure") },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selectorOf(name) },
        template: {
          metadata: { labels: labelsOf(name, "infrastructure") },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPod(uid),
            containers: [
              {
                name,
                image,
                ...(command ? { command } : {}),
                ...(args ? { args } : {}),
                ports: allPorts,
                env: Object.entries(env).map(([k, v]): JsonObject => (typeof v === "object" ? { name: k, valueFrom: v } : { name: k, value: v })),
                resources,
                securityContext: { ...restrictedContainer, readOnlyRootFilesystem: readOnlyRoot },
                readinessProbe: { ...probe, periodSeconds: 5, timeoutSeconds: 5 },
                volumeMounts: mounts,
              },
            ],
            volumes: [{ name: "tmp", emptyDir: {} }, ...extraMounts.map((m) => m.volume)],
          },
        },
        ...(storage
          ? { volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } } }] }
          : {}),
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, labels: labelsOf(name, "infrastructure") },
      spec: {
        selector: selectorOf(name),
        ports: allPorts.map((p) => ({ name: p["name"]!, port: p["containerPort"]!, targetPort: p["containerPort"]!, protocol: "TCP" })),
      },
    },
  ];
}

function infraIngress(name: string, ports: number[], fromLabels: JsonObject[]): JsonObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${name}-ingress` },
    spec: {
      podSelector: { matchLabels: selectorOf(name) },
      policyTypes: ["Ingress"],
      ingress: [{ from: fromLabels.map((labels) => ({ podSelector: { matchLabels: labels } })), ports: tcp(...ports) }],
    },
  };
}

/** Dev's in-cluster MariaDB, Redis, OpenSearch, Kafka (with its topic job), Jaeger and Mailpit, each reachable only by its clients. */
export function devInfra(m: DeployModel): JsonObject[] {
  const { ports, images } = m;
  const kafkaEnv = singleNodeKafkaEnv(ports, `kafka-0.kafka.${NAMESPACE}.svc.cluster.local`, "localhost", { KAFKA_LOG_DIRS: "/var/lib/kafka/data/logs" });
  const secretEnv = (key: string) => ({ secretKeyRef: { name: "shopmesh-mysql", key } });
  return [
    ...statefulInfra({
      name: "mysql",
      image: images.mariadb,
      port: ports.mysql,
      uid: 999,
      storage: "2Gi",
      mountPath: "/var/lib/mysql",
      env: { MARIADB_ROOT_PASSWORD: secretEnv("MYSQL_ROOT_PASSWORD"), MARIADB_USER: secretEnv("MYSQL_USER"), MARIADB_PASSWORD: secretEnv("MYSQL_PASSWORD") },
      // The services create their own shopmesh_<service> databases, so the app user needs global grants (dev only).
      extraMounts: [
        { volume: { name: "init", configMap: { name: "mysql-init" } }, mount: { name: "init", mountPath: "/docker-entrypoint-initdb.d", readOnly: true } },
        { volume: { name: "run", emptyDir: {} }, mount: { name: "run", mountPath: "/run/mysqld" } },
      ],
      probe: { exec: { command: ["healthcheck.sh", "--connect", "--innodb_initialized"] } },
    }),
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "mysql-init" },
      data: { "grants.sql": GRANTS_SQL },
    },
    ...statefulInfra({
      name: "redis",
      image: images.redis,
      port: ports.redis,
      uid: 999,
      args: ["--save", "", "--appendonly", "no"],
      probe: { exec: { command: ["redis-cli", "ping"] } },
    }),
    ...statefulInfra({
      name: "opensearch",
      image: images.opensearch,
      port: ports.opensearch,
      // The image's opensearch user; fsGroup (restrictedPod) makes the data volume writable to it, so no chown init container.
      uid: 1000,
      storage: "4Gi",
      mountPath: "/usr/share/opensearch/data",
      // single-node skips the bootstrap checks, so vm.max_map_count need not be raised: no privileged sysctl init container.
      env: OPENSEARCH_ENV,
      // The entrypoint writes the keystore and logs under /usr/share/opensearch.
      readOnlyRoot: false,
      // 512 MiB heap plus direct memory, Lucene and the JVM itself.
      resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "1536Mi" } },
      probe: { httpGet: { path: "/_cluster/health", port: ports.opensearch } },
    }),
    ...statefulInfra({
      name: "kafka",
      image: images.kafka,
      ports: [
        { name: "kafka", containerPort: ports.kafka, protocol: "TCP" },
        { name: "controller", containerPort: ports.kafkaController, protocol: "TCP" },
      ],
      uid: 1000,
      storage: "4Gi",
      mountPath: "/var/lib/kafka/data",
      env: { ...kafkaEnv, CLUSTER_ID: "c2hvcG1lc2gtZGV2LWthZmthMQ" },
      // The image's entrypoint writes its server.properties under /opt/kafka/config.
      readOnlyRoot: false,
      probe: { tcpSocket: { port: ports.kafka } },
    }),
    ...statefulInfra({
      name: "jaeger",
      image: images.jaeger,
      ports: [
        { name: "otlp-grpc", containerPort: ports.otlpGrpc, protocol: "TCP" },
        { name: "otlp-http", containerPort: ports.otlpHttp, protocol: "TCP" },
        { name: "ui", containerPort: ports.jaegerUi, protocol: "TCP" },
      ],
      uid: 10001,
      probe: { httpGet: { path: "/", port: ports.jaegerUi } },
    }),
    ...statefulInfra({
      name: "mailpit",
      image: images.mailpit,
      ports: [
        { name: "smtp", containerPort: ports.smtp, protocol: "TCP" },
        { name: "ui", containerPort: ports.mailpitUi, protocol: "TCP" },
      ],
      uid: 65534,
      env: { MP_SMTP_AUTH_ACCEPT_ANY: "true", MP_SMTP_AUTH_ALLOW_INSECURE: "true" },
      probe: { httpGet: { path: "/livez", port: ports.mailpitUi } },
    }),
    topicsJob(m),
    infraIngress("mysql", [ports.mysql], [{ "shopmesh.io/mysql-client": "true" }]),
    infraIngress("redis", [ports.redis], [{ "shopmesh.io/redis-client": "true" }]),
    infraIngress("opensearch", [ports.opensearch], [{ "shopmesh.io/opensearch-client": "true" }]),
    infraIngress("kafka", [ports.kafka], [{ "shopmesh.io/kafka-client": "true" }, selectorOf("kafka-topics")]),
    infraIngress("jaeger", [ports.otlpGrpc, ports.otlpHttp], [{ "app.kubernetes.io/part-of": "shopmesh" }]),
    infraIngress("mailpit", [ports.smtp], [{ "shopmesh.io/smtp-client": "true" }]),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "kafka-topics-egress" },
      spec: {
        podSelector: { matchLabels: selectorOf("kafka-topics") },
        policyTypes: ["Egress"],
        egress: [{ to: [podSel("kafka")], ports: tcp(ports.kafka) }],
      },
    },
  ];
}

/**
 * Prometheus for dev: ops/prometheus/prometheus.yml (targets <service>:<port>, resolved in the
 * namespace) and the shop's dashboard at /user/. The services' own policies admit the
 * "monitoring" namespace (an operator's Prometheus in prod); this one lives beside them, so
 * two dev-only policies let it reach their ports and Envoy's admin stats.
 */
export function devPrometheus(m: DeployModel, files: PrometheusFiles): JsonObject[] {
  const mounted = (name: string, mountPath: string): ExtraMount => ({
    volume: { name, configMap: { name: `prometheus-${name}` } },
    mount: { name, mountPath, readOnly: true },
  });
  const targets = [...m.services.filter((s) => !s.devOnly).map((s) => ({ pod: s.name, port: s.port })), { pod: "envoy", port: m.ports.envoyAdmin }];
  return [
    ...statefulInfra({
      name: "prometheus",
      image: m.images.prometheus,
      port: m.ports.prometheus,
      uid: 65534, // the image's nobody
      storage: "2Gi",
      mountPath: "/prometheus",
      args: [
        "--config.file=/etc/prometheus/config/prometheus.yml",
        "--web.user-assets=/etc/prometheus/dashboard",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=2d",
      ],
      extraMounts: [mounted("config", "/etc/prometheus/config"), mounted("dashboard", "/etc/prometheus/dashboard")],
      probe: { httpGet: { path: "/-/ready", port: m.ports.prometheus } },
    }),
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "prometheus-config" }, data: { "prometheus.yml": files.config } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "prometheus-dashboard" }, data: files.dashboard },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "prometheus-egress" },
      spec: {
        podSelector: { matchLabels: selectorOf("prometheus") },
        policyTypes: ["Egress"],
        egress: targets.map((t) => ({ to: [podSel(t.pod)], ports: tcp(t.port) })),
      },
    },
    ...targets.map((t) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${t.pod}-from-prometheus` },
      spec: { podSelector: { matchLabels: selectorOf(t.pod) }, policyTypes: ["Ingress"], ingress: [{ from: [podSel("prometheus")], ports: tcp(t.port) }] },
    })),
  ];
}

/** The shell command that creates one topic (auto-creation is off everywhere, like production). */
export const createTopicCommand = (bootstrap: string, t: TopicSpec) =>
  `/opt/kafka/bin/kafka-topics.sh --bootstrap-server ${bootstrap} --create --if-not-exists --topic ${t.name} --partitions ${t.partitions} --replication-factor 1`;

/** One-shot topic creation (dev): the broker has auto-creation off, like production. */
function topicsJob(m: DeployModel): JsonObject {
  const script = [
    "set -e",
    `until /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do sleep 2; done`,
    ...m.topics.map((t) => createTopicCommand('"$BOOTSTRAP"', t)),
  ].join("\n");
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "kafka-topics", labels: labelsOf("kafka-topics", "job") },
    spec: {
      backoffLimit: 10,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: labelsOf("kafka-topics", "job") },
        spec: {
          restartPolicy: "OnFailure",
          automountServiceAccountToken: false,
          securityContext: restrictedPod(1000),
          containers: [
            {
              name: "kafka-topics",
              image: m.images.kafka,
              command: ["/bin/bash", "-c", script],
              env: [
                { name: "BOOTSTRAP", value: `kafka.${NAMESPACE}.svc.cluster.local:${m.ports.kafka}` },
                { name: "KAFKA_HEAP_OPTS", value: "-Xmx256m" },
              ],
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: { ...restrictedContainer, readOnlyRootFilesystem: false },
            },
          ],
        },
      },
    },
  };
}

/** Services whose secret files dev creates itself (devFilesPatch). */
export const devFileServices = (services: DeployService[]) => services.filter((s) => hasSecretFiles(s) && !s.devOnly);

/** k8s/overlays/dev/kustomization.yaml: the base, dev's infrastructure and stand-ins, dev Secrets, one small replica each. */
export function devKustomization(m: DeployModel): JsonObject {
  const { services, ports } = m;
  const secretGenerator: JsonObject[] = [
    // Dev-only credentials, fine to read in git; prod references Secrets created out of band.
    {
      name: "shopmesh-mysql",
      literals: ["MYSQL_HOST=mysql", `MYSQL_PORT=${ports.mysql}`, "MYSQL_USER=shopmesh", "MYSQL_PASSWORD=shopmesh-dev", "MYSQL_ROOT_PASSWORD=root-dev"],
    },
    { name: "shopmesh-redis", literals: [`REDIS_URL=redis://redis:${ports.redis}`] },
    { name: "shopmesh-opensearch", literals: [`OPENSEARCH_URL=http://opensearch.${NAMESPACE}.svc.cluster.local:${ports.opensearch}`] },
  ];
  for (const s of services.filter((x) => x.secretEnv.length > 0)) {
    secretGenerator.push({ name: `${s.name}-secrets`, literals: s.secretEnv.map((v) => `${v}=${devSecretValue(v)}`) });
  }
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: NAMESPACE,
    resources: ["../../base", "infra.yaml", ...services.filter((s) => s.devOnly).map((s) => `services/${s.name}.yaml`)],
    secretGenerator,
    generatorOptions: { labels: { "shopmesh.io/dev-only": "true" } },
    patches: [
      { path: "patches/small.yaml", target: { kind: "HorizontalPodAutoscaler" } },
      { path: "patches/one-replica.yaml", target: { kind: "Deployment" } },
      { path: "patches/development-mode.yaml" },
      ...devFileServices(services).map((s) => ({ path: `patches/${s.name}-dev-files.yaml` })),
    ],
    images: services.map((s) => ({ name: ownImage(s.name), newTag: "dev" })),
  };
}

/**
 * Dev has no out-of-band Secrets for secret files: an init container of the service's own image
 * creates them in an emptyDir (ES256 key for identity), and the service runs one replica so
 * every token is signed with the same key. A restart rotates the key (dev only).
 */
export function devFilesPatch(s: DeployService): JsonObject {
  const files = Object.values(s.secretFiles);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name },
    spec: {
      replicas: 1,
      template: {
        spec: {
          initContainers: files.map((file, i) => ({
            name: `dev-keygen-${i}`,
            image: ownImage(s.name),
            command: ["/nodejs/bin/node", "-e", KEYGEN_SCRIPT, `${SECRET_FILES_DIR}/${s.name}/${file}`],
            securityContext: restrictedContainer,
            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
            volumeMounts: [{ name: "secret-files", mountPath: `${SECRET_FILES_DIR}/${s.name}` }],
          })),
          volumes: [{ name: "secret-files", secret: null, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }],
        },
      },
    },
  };
}
