import { readFileSync } from "node:fs";
import { join } from "node:path";
import { servicesByPort, topology, type ServiceSpec, type Store } from "@shopmesh/platform/topology";
import { BIN, buildOverlay, installTools, INSTALL_TIMEOUT_MS, K8S_VERSION, parseYamlDocuments, ROOT, run, type K8sObject } from "./tools.js";

/** Every service of the topology (platform/src/topology.ts), which the generator renders. */
const manifests = new Map<string, ServiceSpec>(servicesByPort());
const deployed = (overlay: string) => [...manifests].filter(([, m]) => overlay === "dev" || !m.devOnly).map(([name]) => name);

const rendered = new Map<string, { objects: K8sObject[]; file: string }>();

beforeAll(() => {
  installTools();
  for (const overlay of ["dev", "prod"]) {
    const { result, file } = buildOverlay(overlay);
    if (result.status !== 0) throw new Error(`kustomize build k8s/overlays/${overlay} failed:\n${result.stderr}`);
    rendered.set(overlay, { objects: parseYamlDocuments(result.stdout), file });
  }
}, INSTALL_TIMEOUT_MS);

const find = (overlay: string, kind: string, name: string) => rendered.get(overlay)!.objects.find((o) => o.kind === kind && o.metadata.name === name);

test("the generated compose file and k8s/ match the topology (no stale or hand-edited output)", () => {
  const result = run(process.execPath, ["tools/deploy-gen/dist/main.js", "--check"]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
});

describe.each(["dev", "prod"])("k8s/overlays/%s", (overlay) => {
  test(`every rendered object validates strictly against the Kubernetes ${K8S_VERSION} schemas`, () => {
    const { file } = rendered.get(overlay)!;
    const result = run(join(BIN, "kubernetes-validate"), ["--strict", "--kubernetes-version", K8S_VERSION, "--quiet", file], { timeoutMs: 300_000 });
    const errors = result.stdout.split("\n").filter((line) => line.startsWith("ERROR"));
    expect(errors).toEqual([]);
    // Only custom resources may lack a schema: they are listed, never silently passed.
    const skipped = [...result.stdout.matchAll(/Couldn't find schema for kind (\w+) with api version (\S+)/g)].map((m) => `${m[2]}/${m[1]}`);
    expect(skipped.filter((s) => !s.startsWith("kafka.strimzi.io/"))).toEqual([]);
    expect(result.status).toBe(0);
  });

  test("every service has a hardened Deployment with gRPC readiness, a ClusterIP and a headless Service, an HPA, a PDB and its own ServiceAccount", () => {
    const names = deployed(overlay);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const manifest = manifests.get(name)!;
      const deployment = find(overlay, "Deployment", name);
      expect(deployment).toBeDefined();
      const pod = deployment!.spec.template.spec;
      const container = pod.containers[0];
      expect(pod.serviceAccountName).toBe(name);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      expect(container.resources.requests).toBeDefined();
      expect(container.resources.limits).toBeDefined();
      if ((manifest.kind ?? "grpc") === "grpc") {
        expect(container.readinessProbe.grpc).toEqual({ port: manifest.port });
        expect(find(overlay, "Service", `${name}-headless`)?.spec.clusterIP).toBe("None");
      }
      expect(container.env).toContainEqual({ name: manifest.portEnv, value: String(manifest.port) });
      expect(find(overlay, "Service", name)?.spec.ports[0].port).toBe(manifest.port);
      expect(find(overlay, "ServiceAccount", name)?.["automountServiceAccountToken"]).toBe(false);
      expect(find(overlay, "HorizontalPodAutoscaler", name)?.apiVersion).toBe("autoscaling/v2");
      expect(find(overlay, "PodDisruptionBudget", name)).toBeDefined();
    }
  });

  test("network policies deny by default and let a service be reached only by its declared callers and the edge", () => {
    expect(find(overlay, "NetworkPolicy", "default-deny")?.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    for (const name of deployed(overlay)) {
      const policy = find(overlay, "NetworkPolicy", name)!;
      const allowedPods = policy.spec.ingress
        .flatMap((rule: { from?: { podSelector?: { matchLabels: Record<string, string> } }[] }) => rule.from ?? [])
        .map((peer: { podSelector?: { matchLabels: Record<string, string> } }) => peer.podSelector?.matchLabels["app.kubernetes.io/name"])
        .filter(Boolean)
        .sort();
      // Dev-only stand-ins are let in by a separate, dev-only policy (checked below).
      const callers = deployed(overlay).filter(
        (caller) => manifests.get(caller)!.calls?.includes(name) && (!manifests.get(caller)!.devOnly || manifests.get(name)!.devOnly),
      );
      const edge = (manifests.get(name)!.kind ?? "grpc") === "grpc" ? ["envoy"] : [];
      expect(allowedPods).toEqual([...callers, ...edge].sort());
    }
  });

  test("every service Deployment runs the image built from our Dockerfile", () => {
    for (const name of deployed(overlay)) {
      const image: string = find(overlay, "Deployment", name)!.spec.template.spec.containers[0].image;
      expect(image).toBe(`shopmesh/${name}:${overlay === "dev" ? "dev" : "0.0.0"}`);
    }
  });
});

test("the edge Envoy mounts the Kubernetes variant of the generated config and is a LoadBalancer only in prod", () => {
  const config =
    find("prod", "ConfigMap", "envoy-config") ??
    rendered.get("prod")!.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("envoy-config"));
  expect(config?.data?.["envoy.yaml"]).toContain(readFileSync(join(ROOT, "envoy/envoy.k8s.yaml"), "utf8"));
  expect(find("prod", "Service", "envoy")?.spec.type).toBe("LoadBalancer");
  expect(find("dev", "Service", "envoy")?.spec.type).toBe("ClusterIP");
});

test("prod references Secrets by name only and runs Kafka through Strimzi, while dev brings its own infrastructure", () => {
  const prodKinds = new Set(rendered.get("prod")!.objects.map((o) => o.kind));
  expect(prodKinds.has("Secret")).toBe(false);
  expect(prodKinds.has("StatefulSet")).toBe(false);
  expect(["Kafka", "KafkaNodePool", "KafkaTopic"].every((kind) => prodKinds.has(kind))).toBe(true);
  expect(rendered.get("prod")!.objects.some((o) => o.metadata.name === "payment-provider-sim")).toBe(false);
  const topics = readFileSync(join(ROOT, "scripts/infra/topics.txt"), "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim().split(/\s+/)[0])
    .filter(Boolean);
  expect(
    rendered
      .get("prod")!
      .objects.filter((o) => o.kind === "KafkaTopic")
      .map((o) => o.metadata.name)
      .sort(),
  ).toEqual([...topics].sort());
  for (const name of ["mysql", "redis", "opensearch", "kafka"]) expect(find("dev", "StatefulSet", name)).toBeDefined();
  const standIns = [...manifests].filter(([, m]) => m.devOnly);
  for (const [name, manifest] of standIns) {
    expect(find("dev", "Deployment", name)).toBeDefined();
    for (const callee of manifest.calls ?? []) {
      if (manifests.get(callee)?.devOnly) continue;
      expect(find("dev", "NetworkPolicy", `${callee}-from-${name}`)?.spec.ingress[0].from).toEqual([
        { podSelector: { matchLabels: { "app.kubernetes.io/name": name } } },
      ]);
      expect(find("prod", "NetworkPolicy", `${callee}-from-${name}`)).toBeUndefined();
    }
  }
});

test("a service gets a store's connection Secret, client label and egress exactly when it declares the store, and dev's store admits only those clients", () => {
  const label = (store: string) => `shopmesh.io/${store}-client`;
  for (const store of ["mysql", "redis", "opensearch"] as const satisfies readonly Store[]) {
    for (const overlay of ["dev", "prod"]) {
      for (const name of deployed(overlay)) {
        const pod = find(overlay, "Deployment", name)!.spec.template;
        const secrets = (pod.spec.containers[0].envFrom as { secretRef?: { name: string } }[]).map((source) => source.secretRef?.name);
        const declared = manifests.get(name)!.stores.includes(store);
        expect([name, pod.metadata.labels[label(store)]]).toEqual([name, declared ? "true" : undefined]);
        // Dev's generated Secrets carry kustomize's content hash (shopmesh-redis-<hash>); prod names them as created.
        const references = secrets.some((secret) => secret === `shopmesh-${store}` || secret?.startsWith(`shopmesh-${store}-`));
        expect([name, references]).toEqual([name, declared]);
      }
      expect(find(overlay, "NetworkPolicy", `${store}-clients-egress`)?.spec.podSelector).toEqual({ matchLabels: { [label(store)]: "true" } });
    }
    expect(find("dev", "NetworkPolicy", `${store}-ingress`)?.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { [label(store)]: "true" } } }], ports: [{ protocol: "TCP", port: topology.infrastructure[store].port }] },
    ]);
  }
  const url = rendered.get("dev")!.objects.find((o) => o.kind === "Secret" && o.metadata.name.startsWith("shopmesh-opensearch"))?.data?.["OPENSEARCH_URL"];
  expect(Buffer.from(url ?? "", "base64").toString()).toBe(`http://opensearch.shopmesh.svc.cluster.local:${topology.infrastructure.opensearch.port}`);
});
