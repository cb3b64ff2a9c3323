// Adding a service is its folder, its contract and one topology entry: a throwaway service is
// added to a copy of the topology, in memory, and every generator that reads the topology emits
// it (Envoy, Kubernetes, compose, Prometheus, docs/ports.md) without being told anything else.
import { topology, type ServiceSpec, type Topology } from "@shopmesh/platform/topology";
import { parse, parseAllDocuments } from "yaml";
import { readDeployInputs, renderDeployFiles } from "../../tools/deploy-gen/src/index.js";
import {
  defaultVariantSettings,
  describeService,
  loadContractServices,
  renderEnvoyConfig,
  upstreamPortVariables,
  variants,
  type EdgeService,
} from "../../tools/envoy-gen/src/index.js";
import { renderLocalPrometheus, renderPortsDoc, renderPrometheus } from "../../tools/topology-gen/src/index.js";
import { REPO_ROOT } from "../edge/harness.js";

/** A loosely typed rendered object, for assertions. */
type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const NAME = "reviews";

/** The one entry a new service adds to platform/src/topology.ts. */
function buildEntry(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    port: 50070,
    portEnv: "REVIEWS_PORT",
    kind: "grpc",
    description: "product reviews (throwaway, for this test)",
    database: { name: "shopmesh_reviews", env: "REVIEWS_DATABASE" },
    stores: ["mysql"],
    calls: ["identity", "catalog"],
    produces: [],
    consumes: ["order"],
    ...overrides,
  };
}

const entry = buildEntry();
const scaffolded: Topology = { ...topology, services: { ...topology.services, [NAME]: entry } };

/** What envoy-gen reads from the new service's contract: one public RPC (AUTH_PUBLIC) and one internal one. */
const contract: EdgeService = {
  typeName: "shopmesh.reviews.v1.ReviewService",
  upstream: NAME,
  routable: [
    {
      name: "ListReviews",
      path: "/shopmesh.reviews.v1.ReviewService/ListReviews",
      streaming: false,
      auth: "public",
      roles: [],
      rateLimitClass: "default",
      idempotent: true,
      timeoutMs: 0,
    },
  ],
  internal: ["/shopmesh.reviews.v1.ReviewService/Recount"],
};

const documents = (text: string): Obj[] => parseAllDocuments(text).map((document) => document.toJS() as Obj);
const find = (objects: Obj[], kind: string, name: string) => objects.find((o) => o["kind"] === kind && o["metadata"]["name"] === name);

describe("a service added to the topology, and nothing else", () => {
  test("when docs/ports.md is rendered, then it has the service's row", () => {
    expect(renderPortsDoc(scaffolded)).toMatch(/^\| reviews +\| 50070 +\| `REVIEWS_PORT` +\|$/m);
    expect(renderPortsDoc()).not.toContain("REVIEWS_PORT");
  });

  test("when the Prometheus configs are rendered, then both scrape the service under its name", () => {
    const jobOf = (yaml: string) => (parse(yaml) as Obj)["scrape_configs"].find((job: Obj) => job["job_name"] === "shopmesh");
    expect(jobOf(renderPrometheus(scaffolded))["static_configs"]).toContainEqual({ targets: ["reviews:50070"], labels: { service_name: NAME } });
    expect(jobOf(renderLocalPrometheus(scaffolded))["static_configs"]).toContainEqual({ targets: ["127.0.0.1:50070"], labels: { service_name: NAME } });
  });

  test("when the Envoy configs are rendered with its contract, then each variant routes its public RPC to its clusters, and never its internal one", async () => {
    const services = [...(await loadContractServices()).map(describeService), contract];
    // The contract alone is not enough: without the topology entry the generator has no port for it.
    expect(() => upstreamPortVariables(services)).toThrow(/the topology has no service reviews/);
    const hosts = { "envoy.yaml": "127.0.0.1", "envoy.compose.yaml": NAME, "envoy.k8s.yaml": `${NAME}.shopmesh.svc.cluster.local` };
    for (const variant of variants(services, defaultVariantSettings(scaffolded), scaffolded)) {
      const config = renderEnvoyConfig(variant.options) as Obj;
      const clusters: Obj[] = config["static_resources"]["clusters"];
      for (const name of ["reviews_grpc", "reviews_http"]) {
        const endpoint = clusters.find((c) => c["name"] === name)?.["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
          "socket_address"
        ];
        expect([variant.file, name, endpoint]).toEqual([variant.file, name, { address: hosts[variant.file as keyof typeof hosts], port_value: entry.port }]);
      }
      const text = JSON.stringify(config);
      expect(text).toContain(`"name":"/shopmesh.reviews.v1.ReviewService/ListReviews#grpc"`);
      expect(text).toContain(`"cluster":"reviews_http"`);
      expect(text).not.toContain("ReviewService/Recount");
    }
  });

  describe("when k8s/ and compose.yaml are rendered", () => {
    // The dev Prometheus mounts the scaffolded scrape config, as the generators chain in the repository.
    const inputs = readDeployInputs(REPO_ROOT);
    const files = renderDeployFiles({ ...inputs, prometheus: { ...inputs.prometheus, config: renderPrometheus(scaffolded) } }, scaffolded);

    test("then the service has its own hardened Deployment, Services, HPA, PDB and ServiceAccount in the base, listed by its kustomization", () => {
      expect(renderDeployFiles(inputs).has("k8s/base/services/reviews.yaml")).toBe(false);
      const objects = documents(files.get("k8s/base/services/reviews.yaml")!);
      expect(objects.map((o) => `${o["kind"]}/${o["metadata"]["name"]}`)).toEqual([
        "ServiceAccount/reviews",
        "Deployment/reviews",
        "Service/reviews",
        "Service/reviews-headless",
        "HorizontalPodAutoscaler/reviews",
        "PodDisruptionBudget/reviews",
        "NetworkPolicy/reviews",
      ]);
      const pod = find(objects, "Deployment", NAME)!["spec"]["template"];
      const container = pod["spec"]["containers"][0];
      expect(container["image"]).toBe("shopmesh/reviews");
      expect(container["readinessProbe"]["grpc"]).toEqual({ port: entry.port });
      expect(container["env"]).toEqual(
        expect.arrayContaining([
          { name: "REVIEWS_PORT", value: "50070" },
          { name: "IDENTITY_ADDR", value: `dns:///identity-headless.shopmesh.svc.cluster.local:${topology.services.identity.port}` },
          { name: "CATALOG_ADDR", value: `dns:///catalog-headless.shopmesh.svc.cluster.local:${topology.services.catalog.port}` },
        ]),
      );
      expect(pod["metadata"]["labels"]).toMatchObject({ "shopmesh.io/mysql-client": "true", "shopmesh.io/kafka-client": "true" });
      expect(find(objects, "Service", NAME)!["spec"]["ports"][0]["port"]).toBe(entry.port);
      const base = parse(files.get("k8s/base/kustomization.yaml")!) as Obj;
      expect(base["resources"]).toContain("services/reviews.yaml");
      expect(base["images"]).toContainEqual({ name: "shopmesh/reviews", newTag: "latest" });
    });

    test("then network policies let the edge in and the service out to its callees, and the callees admit it", () => {
      const policy = find(documents(files.get("k8s/base/services/reviews.yaml")!), "NetworkPolicy", NAME)!;
      expect(policy["spec"]["ingress"][0]["from"]).toEqual([{ podSelector: { matchLabels: { "app.kubernetes.io/name": "envoy" } } }]);
      expect(policy["spec"]["egress"].map((rule: Obj) => rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"])).toEqual([
        "identity",
        "catalog",
      ]);
      const catalog = find(documents(files.get("k8s/base/services/catalog.yaml")!), "NetworkPolicy", "catalog")!;
      expect(catalog["spec"]["ingress"][0]["from"]).toContainEqual({ podSelector: { matchLabels: { "app.kubernetes.io/name": NAME } } });
      const edge = find(documents(files.get("k8s/base/edge/edge.yaml")!), "NetworkPolicy", "envoy")!;
      expect(edge["spec"]["egress"]).toContainEqual({
        to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": NAME } } }],
        ports: [{ protocol: "TCP", port: entry.port }],
      });
      const infra = documents(files.get("k8s/overlays/dev/infra.yaml")!);
      expect(find(infra, "NetworkPolicy", "reviews-from-prometheus")).toBeDefined();
      expect(find(infra, "ConfigMap", "prometheus-config")!["data"]["prometheus.yml"]).toContain("reviews:50070");
    });

    test("then compose builds it from the one Dockerfile, gives it its callees' addresses and makes it wait for what it needs", () => {
      const compose = parse(files.get("compose.yaml")!) as Obj;
      const service = compose["services"][NAME];
      expect(service["build"]).toEqual({ context: ".", args: { SERVICE: NAME } });
      expect(service["environment"]).toMatchObject({
        REVIEWS_PORT: "50070",
        CATALOG_ADDR: `catalog:${topology.services.catalog.port}`,
        MYSQL_HOST: "mysql",
        KAFKA_BROKERS: `kafka:${topology.infrastructure.kafka.port}`,
      });
      expect(Object.keys(service["depends_on"]).sort()).toEqual(["catalog", "jaeger", "kafka", "kafka-topics", "mysql", "secrets"]);
      expect(compose["services"]["envoy"]["depends_on"]).toHaveProperty(NAME);
    });
  });
});
