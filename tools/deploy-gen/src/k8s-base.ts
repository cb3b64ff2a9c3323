import { addressEnv, type ServiceName } from "@shopmesh/platform/topology";
import {
  callersOf,
  envList,
  grpcServices,
  hasSecretFiles,
  labelsOf,
  NAMESPACE,
  ownImage,
  podSel,
  restrictedContainer,
  restrictedPod,
  SECRET_FILES_DIR,
  selectorOf,
  serviceNamed,
  tcp,
  type DeployModel,
  type DeployService,
  type Json,
  type JsonObject,
} from "./model.js";

function serviceEnvK8s(s: DeployService, services: DeployService[]): JsonObject[] {
  const env: JsonObject[] = [{ name: s.portEnv, value: String(s.port) }];
  for (const callee of s.calls) {
    const target = serviceNamed(services, callee);
    // dns:/// + the headless name: the gRPC client resolves every pod and balances round_robin.
    if (target.kind === "grpc")
      env.push({ name: addressEnv(callee as ServiceName), value: `dns:///${callee}-headless.${NAMESPACE}.svc.cluster.local:${target.port}` });
  }
  env.push(...envList(s.env));
  for (const [variable, file] of Object.entries(s.secretFiles)) env.push({ name: variable, value: `${SECRET_FILES_DIR}/${s.name}/${file}` });
  for (const variable of s.secretEnv) env.push({ name: variable, valueFrom: { secretKeyRef: { name: `${s.name}-secrets`, key: variable } } });
  return env;
}

function deployment(s: DeployService, services: DeployService[]): JsonObject {
  const envFrom: JsonObject[] = [{ configMapRef: { name: "shopmesh-runtime" } }];
  if (s.stores.includes("mysql")) envFrom.push({ secretRef: { name: "shopmesh-mysql" } });
  if (s.stores.includes("redis")) envFrom.push({ secretRef: { name: "shopmesh-redis" } });
  if (s.stores.includes("opensearch")) envFrom.push({ secretRef: { name: "shopmesh-opensearch" } });
  const volumes: JsonObject[] = [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }];
  const mounts: JsonObject[] = [{ name: "tmp", mountPath: "/tmp" }];
  if (hasSecretFiles(s)) {
    volumes.push({ name: "secret-files", secret: { secretName: `${s.name}-files`, defaultMode: 0o440 } });
    mounts.push({ name: "secret-files", mountPath: `${SECRET_FILES_DIR}/${s.name}`, readOnly: true });
  }
  const port = { name: s.kind === "grpc" ? "grpc" : "http", containerPort: s.port, protocol: "TCP" };
  // Readiness follows grpc.health.v1 (SERVING only while MySQL/Redis/Kafka answer); liveness
  // asks only whether the process serves at all, so a database outage drains pods instead of
  // restarting every one of them.
  const readinessProbe: JsonObject = s.kind === "grpc" ? { grpc: { port: s.port } } : { httpGet: { path: "/readyz", port: s.port } };
  const labels = {
    ...labelsOf(s.name),
    ...(s.stores.includes("mysql") ? { "shopmesh.io/mysql-client": "true" } : {}),
    ...(s.stores.includes("redis") ? { "shopmesh.io/redis-client": "true" } : {}),
    ...(s.stores.includes("opensearch") ? { "shopmesh.io/opensearch-client": "true" } : {}),
    ...(s.kafka ? { "shopmesh.io/kafka-client": "true" } : {}),
    ...(s.smtp ? { "shopmesh.io/smtp-client": "true" } : {}),
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name, labels: labelsOf(s.name) },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorOf(s.name) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: s.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: restrictedPod(),
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selectorOf(s.name) } },
          ],
          containers: [
            {
              name: s.name,
              image: ownImage(s.name),
              imagePullPolicy: "IfNotPresent",
              ports: [port],
              envFrom,
              env: serviceEnvK8s(s, services),
              resources: { requests: { cpu: "100m", memory: "160Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: restrictedContainer,
              startupProbe: { httpGet: { path: "/healthz", port: s.port }, periodSeconds: 2, failureThreshold: 60 },
              readinessProbe: { ...readinessProbe, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
              livenessProbe: { httpGet: { path: "/healthz", port: s.port }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              // Lets endpoints and Envoy drop the pod before SIGTERM starts draining it.
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

/** Who may reach this service and whom it may reach, from the topology's `calls`. */
function networkPolicy(s: DeployService, services: DeployService[]): JsonObject {
  // Dev-only callers get their own additive policy in the dev overlay (devOnlyIngress).
  const callers = callersOf(services, s.name)
    .filter((c) => !c.devOnly || s.devOnly)
    .map((c) => podSel(c.name));
  const fromEdge = s.kind === "grpc" ? [podSel("envoy")] : [];
  const ingress: JsonObject[] = [{ from: [...fromEdge, ...callers], ports: tcp(s.port) }];
  // Prometheus in namespace "monitoring" scrapes /metrics on the service port.
  ingress.push({ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }], ports: tcp(s.port) });
  const egress = s.calls.map((callee) => ({ to: [podSel(callee)], ports: tcp(serviceNamed(services, callee).port) }));
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: s.name, labels: labelsOf(s.name) },
    spec: {
      podSelector: { matchLabels: selectorOf(s.name) },
      policyTypes: ["Ingress", "Egress"],
      ingress,
      ...(egress.length > 0 ? { egress } : {}),
    },
  };
}

/** A service's ServiceAccount, Deployment, Services, HPA, PDB and NetworkPolicy. */
export function serviceObjects(s: DeployService, services: DeployService[]): JsonObject[] {
  const portSpec = {
    name: s.kind === "grpc" ? "grpc" : "http",
    port: s.port,
    targetPort: s.port,
    protocol: "TCP",
    ...(s.kind === "grpc" ? { appProtocol: "kubernetes.io/h2c" } : {}),
  };
  const objects: JsonObject[] = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: s.name, labels: labelsOf(s.name) }, automountServiceAccountToken: false },
    deployment(s, services),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: s.name, labels: labelsOf(s.name) },
      spec: { type: "ClusterIP", selector: selectorOf(s.name), ports: [portSpec] },
    },
  ];
  if (s.kind === "grpc") {
    objects.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `${s.name}-headless`, labels: labelsOf(s.name) },
      // Headless: DNS returns every ready pod, so gRPC clients balance per call (round_robin)
      // instead of pinning one long-lived HTTP/2 connection to one pod.
      spec: { clusterIP: "None", selector: selectorOf(s.name), ports: [portSpec] },
    });
  }
  objects.push(
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: s.name, labels: labelsOf(s.name) },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: s.name },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: s.name, labels: labelsOf(s.name) },
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(s.name) } },
    },
    networkPolicy(s, services),
  );
  return objects;
}

/** Lets a dev-only stand-in reach what it calls (the simulator's webhooks to payment). */
export function devOnlyIngress(s: DeployService, services: DeployService[]): JsonObject[] {
  return s.calls
    .map((callee) => serviceNamed(services, callee))
    .filter((callee) => !callee.devOnly)
    .map((callee) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${callee.name}-from-${s.name}`, labels: labelsOf(s.name) },
      spec: {
        podSelector: { matchLabels: selectorOf(callee.name) },
        policyTypes: ["Ingress"],
        ingress: [{ from: [podSel(s.name)], ports: tcp(callee.port) }],
      },
    }));
}

function clientEgress(name: string, label: string, target: string, port: number): JsonObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${name}-egress` },
    spec: { podSelector: { matchLabels: { [label]: "true" } }, policyTypes: ["Egress"], egress: [{ to: [podSel(target)], ports: tcp(port) }] },
  };
}

/** The namespace, the runtime ConfigMap and the policies every service shares (default deny, DNS, stores, tracing). */
export function baseShared(m: DeployModel): JsonObject[] {
  const { ports } = m;
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: NAMESPACE,
        labels: {
          "pod-security.kubernetes.io/enforce": "baseline",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "shopmesh-runtime", labels: labelsOf("shopmesh", "config") },
      data: {
        NODE_ENV: "production",
        HOST: "0.0.0.0",
        LOG_LEVEL: "info",
        KAFKA_BROKERS: `kafka.${NAMESPACE}.svc.cluster.local:${ports.kafka}`,
        KAFKAJS_NO_PARTITIONER_WARNING: "1",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://jaeger.${NAMESPACE}.svc.cluster.local:${ports.otlpHttp}`,
        JWKS_URL: `http://identity.${NAMESPACE}.svc.cluster.local:${serviceNamed(m.services, "identity").port}/.well-known/jwks.json`,
        JWT_ISSUER: "shopmesh-identity",
        JWT_AUDIENCE: "shopmesh",
        SMTP_HOST: `mailpit.${NAMESPACE}.svc.cluster.local`,
        SMTP_PORT: String(ports.smtp),
      },
    },
    // Nothing moves unless a policy below or a service's own policy allows it.
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-dns-egress" },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
    // Egress to the stores, selected by the client labels the Deployments carry. The dev overlay
    // keeps these (in-cluster StatefulSets); prod replaces the targets with the managed endpoints.
    clientEgress("mysql-clients", "shopmesh.io/mysql-client", "mysql", ports.mysql),
    clientEgress("redis-clients", "shopmesh.io/redis-client", "redis", ports.redis),
    clientEgress("opensearch-clients", "shopmesh.io/opensearch-client", "opensearch", ports.opensearch),
    clientEgress("kafka-clients", "shopmesh.io/kafka-client", "kafka", ports.kafka),
    clientEgress("smtp-clients", "shopmesh.io/smtp-client", "mailpit", ports.smtp),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "tracing-egress" },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/part-of": "shopmesh" } },
        policyTypes: ["Egress"],
        egress: [{ to: [podSel("jaeger")], ports: tcp(ports.otlpGrpc, ports.otlpHttp) }],
      },
    },
  ];
}

/** The edge: Envoy's Deployment, Service, HPA, PDB and a policy letting it reach every gRPC service. */
export function edgeObjects(m: DeployModel): JsonObject[] {
  const upstreams = grpcServices(m.services);
  const edge = { port: m.ports.edge, admin: m.ports.envoyAdmin };
  const name = "envoy";
  const egress: Json = upstreams.map((s) => ({ to: [podSel(s.name)], ports: tcp(s.port) }));
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, labels: labelsOf(name, "edge") }, automountServiceAccountToken: false },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, labels: labelsOf(name, "edge") },
      spec: {
        replicas: 2,
        selector: { matchLabels: selectorOf(name) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: labelsOf(name, "edge") },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPod(101), // the envoy user of the official image
            containers: [
              {
                name,
                image: m.images.envoy,
                args: ["--config-path", "/etc/envoy/envoy.yaml", "--drain-time-s", "20"],
                ports: [
                  { name: "http", containerPort: edge.port, protocol: "TCP" },
                  { name: "admin", containerPort: edge.admin, protocol: "TCP" },
                ],
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
                securityContext: restrictedContainer,
                readinessProbe: { httpGet: { path: "/ready", port: edge.admin }, periodSeconds: 5 },
                livenessProbe: { tcpSocket: { port: edge.port }, periodSeconds: 10 },
                volumeMounts: [
                  { name: "config", mountPath: "/etc/envoy", readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "envoy-config" } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, labels: labelsOf(name, "edge") },
      spec: { type: "ClusterIP", selector: selectorOf(name), ports: [{ name: "http", port: 80, targetPort: edge.port, protocol: "TCP" }] },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name, labels: labelsOf(name, "edge") },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, labels: labelsOf(name, "edge") },
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(name) } },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, labels: labelsOf(name, "edge") },
      spec: {
        podSelector: { matchLabels: selectorOf(name) },
        policyTypes: ["Ingress", "Egress"],
        // The edge listener is open to any client; the admin port stays closed (kubelet probes are not subject to policies).
        ingress: [{ ports: tcp(edge.port) }],
        egress,
      },
    },
  ];
}

/** k8s/base/kustomization.yaml: the shared objects, the edge and every deployed (not dev-only) service. */
export function baseKustomization(services: DeployService[]): JsonObject {
  const deployed = services.filter((s) => !s.devOnly);
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: NAMESPACE,
    labels: [{ pairs: { "app.kubernetes.io/part-of": "shopmesh" }, includeSelectors: false }],
    resources: ["shared.yaml", "edge/edge.yaml", ...deployed.map((s) => `services/${s.name}.yaml`)],
    configMapGenerator: [{ name: "envoy-config", files: ["envoy.yaml=edge/envoy.yaml"] }],
    images: deployed.map((s) => ({ name: ownImage(s.name), newTag: "latest" })),
  };
}
