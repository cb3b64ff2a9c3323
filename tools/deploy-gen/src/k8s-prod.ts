import { NAMESPACE, ownImage, selectorOf, tcp, type DeployModel, type DeployService, type JsonObject } from "./model.js";

/** Kafka through Strimzi: three dual-role nodes, every topic replicated three times. */
export function prodKafka(m: DeployModel): JsonObject[] {
  const cluster = { "strimzi.io/cluster": "kafka" };
  return [
    {
      apiVersion: "kafka.strimzi.io/v1beta2",
      kind: "KafkaNodePool",
      metadata: { name: "dual-role", labels: cluster },
      spec: {
        replicas: 3,
        roles: ["controller", "broker"],
        storage: { type: "jbod", volumes: [{ id: 0, type: "persistent-claim", size: "50Gi", deleteClaim: false, kraftMetadata: "shared" }] },
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "2Gi" } },
      },
    },
    {
      apiVersion: "kafka.strimzi.io/v1beta2",
      kind: "Kafka",
      metadata: { name: "kafka", annotations: { "strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled" } },
      spec: {
        kafka: {
          version: m.kafkaVersion,
          listeners: [{ name: "plain", port: m.ports.kafka, type: "internal", tls: false }],
          config: {
            "auto.create.topics.enable": false,
            "default.replication.factor": 3,
            "min.insync.replicas": 2,
            "offsets.topic.replication.factor": 3,
            "transaction.state.log.replication.factor": 3,
            "transaction.state.log.min.isr": 2,
          },
        },
        entityOperator: { topicOperator: {} },
      },
    },
    ...m.topics.map((t) => ({
      apiVersion: "kafka.strimzi.io/v1beta2",
      kind: "KafkaTopic",
      metadata: { name: t.name, labels: cluster },
      spec: { partitions: Math.max(t.partitions, t.name.endsWith(".dlq") ? 1 : 6), replicas: 3, config: { "min.insync.replicas": 2 } },
    })),
  ];
}

export function prodEdgeAndExternals(): JsonObject[] {
  return [
    // Traces go to the platform's collector; the name stays "jaeger" so envoy.k8s.yaml and the runtime ConfigMap need no change.
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "jaeger" },
      spec: { type: "ExternalName", externalName: "otel-collector.observability.svc.cluster.local" },
    },
  ];
}

/** Egress to managed MySQL, Redis, OpenSearch, SMTP and the collector, which live outside the cluster network. */
export function prodEgressPatches(m: DeployModel): JsonObject[] {
  const { ports } = m;
  const kafkaEgress: JsonObject[] = [
    // Strimzi pods: brokers reachable by the event clients; Strimzi's own policies cover the rest.
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "kafka-clients-egress" },
      spec: {
        podSelector: { matchLabels: { "shopmesh.io/kafka-client": "true" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: { matchLabels: { "strimzi.io/cluster": "kafka", "strimzi.io/broker-role": "true" } } }], ports: tcp(ports.kafka) }],
      },
    },
  ];
  const external = (label: string, port: number, name: string): JsonObject => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name },
    spec: {
      podSelector: { matchLabels: { [label]: "true" } },
      policyTypes: ["Egress"],
      // Narrow to the managed instance's CIDR for your VPC.
      egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: tcp(port) }],
    },
  });
  return [
    ...kafkaEgress,
    external("shopmesh.io/mysql-client", ports.mysql, "mysql-clients-egress"),
    external("shopmesh.io/redis-client", ports.redis, "redis-clients-egress"),
    external("shopmesh.io/opensearch-client", ports.opensearch, "opensearch-clients-egress"),
    external("shopmesh.io/smtp-client", 587, "smtp-clients-egress"),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "tracing-egress" },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/part-of": "shopmesh" } },
        policyTypes: ["Egress"],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } } }], ports: tcp(ports.otlpGrpc, ports.otlpHttp) },
        ],
      },
    },
  ];
}

/**
 * Variables that point at a dev-only stand-in (the payment provider simulator) come, in prod,
 * from the service's own Secret, where the real endpoint is provisioned with its credentials.
 */
function externalEndpointVars(s: DeployService, services: DeployService[]): string[] {
  const standIns = services.filter((x) => x.devOnly).map((x) => x.name);
  return Object.entries(s.env)
    .filter(([, value]) => standIns.some((name) => value.includes(`//${name}:`)))
    .map(([variable]) => variable);
}

const externalCallers = (services: DeployService[]) => services.filter((s) => !s.devOnly && externalEndpointVars(s, services).length > 0);

export function prodEndpointPatches(services: DeployService[]): JsonObject[] {
  return externalCallers(services).map((s) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: s.name,
              env: externalEndpointVars(s, services).map((variable) => ({
                name: variable,
                value: null,
                valueFrom: { secretKeyRef: { name: `${s.name}-secrets`, key: variable } },
              })),
            },
          ],
        },
      },
    },
  }));
}

export function prodExternalEgress(services: DeployService[]): JsonObject[] {
  return externalCallers(services).map((s) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${s.name}-external-egress` },
    spec: {
      podSelector: { matchLabels: selectorOf(s.name) },
      policyTypes: ["Egress"],
      // The real provider is on the internet over HTTPS; private ranges stay closed.
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }], ports: tcp(443) }],
    },
  }));
}

export function prodKustomization(services: DeployService[]): JsonObject {
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: NAMESPACE,
    // Secrets are created out of band (sealed, external or by hand) and only referenced here:
    //   shopmesh-mysql (MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD), shopmesh-redis (REDIS_URL),
    //   shopmesh-opensearch (OPENSEARCH_URL),
    //   <service>-secrets (the topology's secretEnv), <service>-files (the topology's secretFiles).
    resources: ["../../base", "kafka.yaml", "externals.yaml"],
    patches: [{ path: "patches/egress.yaml" }, { path: "patches/runtime.yaml" }, { path: "patches/edge-service.yaml" }, { path: "patches/namespace.yaml" }],
    images: services.filter((s) => !s.devOnly).map((s) => ({ name: ownImage(s.name), newTag: "0.0.0" })),
  };
}

/** The prod runtime ConfigMap's overrides: Strimzi's bootstrap and the real SMTP relay. */
export function prodRuntimePatch(m: DeployModel): JsonObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "shopmesh-runtime" },
    data: {
      KAFKA_BROKERS: `kafka-kafka-bootstrap.${NAMESPACE}.svc.cluster.local:${m.ports.kafka}`,
      SMTP_HOST: "smtp.example.internal",
      SMTP_PORT: "587",
      SMTP_SECURE: "false",
    },
  };
}
