import { topology, type ServiceSpec, type Topology } from "@shopmesh/platform/topology";
import { parse, parseAllDocuments } from "yaml";
import { deployServices, validate } from "./model.js";
import { renderDeployFiles, type DeployInputs } from "./render.js";

/** A loosely typed rendered object, for assertions. */
type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

function buildInputs(overrides: Partial<DeployInputs> = {}): DeployInputs {
  return {
    versions: { kafka: "9.9.9", envoy: "1.40.0", opensearch: "2.19.6", jaeger: "2.12.0", prometheus: "3.16.0", mailpit: "1.28.0" },
    envoyK8s: "static_resources: {}\n",
    prometheus: { config: "scrape_configs: []\n", dashboard: { "index.html": "<html></html>" } },
    web: true,
    ...overrides,
  };
}

/** The topology with `services` replacing or adding entries. */
const withServices = (services: Record<string, ServiceSpec>): Topology => ({ ...topology, services: { ...topology.services, ...services } });

const documents = (text: string): Obj[] => parseAllDocuments(text).map((document) => document.toJS() as Obj);
const find = (objects: Obj[], kind: string, name: string) => objects.find((o) => o["kind"] === kind && o["metadata"]["name"] === name);

describe("the deployment model", () => {
  test("when a service's env names another service's URL, then it resolves to <name>:<port> as compose and Kubernetes name it", () => {
    const payment = deployServices(topology).find((s) => s.name === "payment")!;
    expect(payment.env["PAYMENT_PROVIDER_URL"]).toBe(`http://payment-provider-sim:${topology.services["payment-provider-sim"].port}`);
    expect(payment.kafka).toBe(true);
  });

  test("when a service calls one the topology does not have, or a dev-only stand-in without a URL variable, then validation names both", () => {
    const services = deployServices(
      withServices({
        cart: { ...topology.services.cart, calls: ["nowhere"] },
        inventory: { ...topology.services.inventory, calls: ["payment-provider-sim"] },
      }),
    );
    expect(() => validate(services)).toThrow(/cart: calls unknown service nowhere[\s\S]*inventory: calls dev-only payment-provider-sim/);
  });
});

describe("the rendered files", () => {
  const files = renderDeployFiles(buildInputs());

  test("when rendered, then every file says it is generated and where from, and compose's Kafka topic job creates every declared topic", () => {
    for (const [path, text] of files)
      expect([path, text.split("\n")[0]]).toEqual([path, expect.stringMatching(/^(#|--) (GENERATED|Copied from).* tools\/deploy-gen/)]);
    const compose = parse(files.get("compose.yaml")!) as Obj;
    expect(compose["services"]["kafka"]["image"]).toBe("apache/kafka:9.9.9");
    const job: string = compose["services"]["kafka-topics"]["command"][0];
    expect(job).toContain(`--topic ${topology.topics.order.name} --partitions ${topology.topics.order.partitions} `);
    expect(job).toContain(`--topic ${topology.topics.order.name}.dlq --partitions 1 `);
  });

  test("when the storefront is absent, then compose has no web service; when envoy.k8s.yaml is absent, then the copy says how to make it", () => {
    const bare = renderDeployFiles(buildInputs({ web: false, envoyK8s: undefined }));
    expect((parse(bare.get("compose.yaml")!) as Obj)["services"]["web"]).toBeUndefined();
    expect(bare.get("k8s/base/edge/envoy.yaml")).toMatch(/^# envoy\/envoy\.k8s\.yaml is missing/);
    expect(files.get("k8s/base/edge/envoy.yaml")).toContain("static_resources: {}");
  });

  test("when a service is dev-only, then it is deployed by the dev overlay alone, which lets it reach the services it calls", () => {
    expect(files.has("k8s/base/services/payment-provider-sim.yaml")).toBe(false);
    const sim = documents(files.get("k8s/overlays/dev/services/payment-provider-sim.yaml")!);
    expect(find(sim, "Deployment", "payment-provider-sim")?.["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]).toEqual({
      path: "/readyz",
      port: topology.services["payment-provider-sim"].port,
    });
    expect(find(sim, "NetworkPolicy", "payment-from-payment-provider-sim")?.["spec"]["ingress"][0]["from"]).toEqual([
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "payment-provider-sim" } } },
    ]);
    expect((parse(files.get("k8s/base/kustomization.yaml")!) as Obj)["resources"]).not.toContain("services/payment-provider-sim.yaml");
    expect((parse(files.get("k8s/overlays/dev/kustomization.yaml")!) as Obj)["resources"]).toContain("services/payment-provider-sim.yaml");
  });

  test("when a deployed service reaches a stand-in through a URL variable, then prod takes that variable from the service's Secret and opens HTTPS egress", () => {
    const patch = documents(files.get("k8s/overlays/prod/patches/external-endpoints.yaml")!);
    expect(find(patch, "Deployment", "payment")?.["spec"]["template"]["spec"]["containers"][0]["env"]).toEqual([
      { name: "PAYMENT_PROVIDER_URL", value: null, valueFrom: { secretKeyRef: { name: "payment-secrets", key: "PAYMENT_PROVIDER_URL" } } },
    ]);
    expect(find(documents(files.get("k8s/overlays/prod/externals.yaml")!), "NetworkPolicy", "payment-external-egress")?.["spec"]["egress"][0]["ports"]).toEqual(
      [{ protocol: "TCP", port: 443 }],
    );
  });

  test("when a service declares secret files, then dev creates them in an init container and runs one replica", () => {
    const patch = documents(files.get("k8s/overlays/dev/patches/identity-dev-files.yaml")!);
    expect(find(patch, "Deployment", "identity")?.["spec"]["replicas"]).toBe(1);
    expect(find(patch, "HorizontalPodAutoscaler", "identity")?.["spec"]).toEqual({ minReplicas: 1, maxReplicas: 1 });
    const compose = parse(files.get("compose.yaml")!) as Obj;
    expect(compose["services"]["identity"]["depends_on"]["identity-keygen"]).toEqual({ condition: "service_completed_successfully" });
    expect(compose["volumes"]).toHaveProperty("identity-files");
  });
});
