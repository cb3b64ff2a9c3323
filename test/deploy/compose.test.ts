import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEVELOPMENT_SECRETS } from "@shopmesh/platform";
import { servicesByPort, topology } from "@shopmesh/platform/topology";
import { BIN, installTools, INSTALL_TIMEOUT_MS, ROOT, run } from "./tools.js";

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  build?: { context: string; args?: Record<string, string> };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  volumes?: { type: string; source: string; target: string }[];
}

let services: Record<string, ComposeService> = {};

beforeAll(() => {
  installTools();
  const result = run(join(BIN, "compose-check"), ["compose.yaml"]);
  if (result.status !== 0) throw new Error(`compose.yaml does not load:\n${result.stderr}`);
  services = (JSON.parse(result.stdout) as { services: Record<string, ComposeService> }).services;
}, INSTALL_TIMEOUT_MS);

test("compose.yaml loads through the compose-spec schema, interpolation and reference checks", () => {
  const result = run(join(BIN, "compose-check"), ["-q", "compose.yaml"]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
});

test("a broken compose file is rejected, so the check above can fail", () => {
  const file = join(mkdtempSync(join(tmpdir(), "shopmesh-compose-")), "compose.yaml");
  writeFileSync(file, "services:\n  a:\n    image: x:1\n    depends_on: [missing]\n");
  const result = run(join(BIN, "compose-check"), ["-q", file]);
  expect(result.status).not.toBe(0);
  expect(result.stderr).toMatch(/missing/);
});

test("every service of the topology is built from the one Dockerfile with its SERVICE and waits for healthy dependencies", () => {
  const names = servicesByPort().map(([name]) => name);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) {
    const service = services[name];
    expect(service?.build?.args?.["SERVICE"]).toBe(name);
    expect(service?.build?.context).toBe(ROOT);
    expect(service?.read_only).toBe(true);
    expect(service?.healthcheck?.test.join(" ")).toContain("/readyz");
    for (const [dependency, { condition }] of Object.entries(service?.depends_on ?? {})) {
      expect(services[dependency]).toBeDefined();
      if (["mysql", "redis", "opensearch", "kafka"].includes(dependency)) expect(condition).toBe("service_healthy");
    }
  }
});

test("the compose stack has Envoy on the compose variant of the generated config, Kafka with its topic job, MySQL, Redis, OpenSearch, Jaeger and Mailpit", () => {
  for (const name of ["envoy", "kafka", "kafka-topics", "mysql", "redis", "opensearch", "jaeger", "mailpit"]) expect(services[name]).toBeDefined();
  const envoyMount = services["envoy"]!.volumes?.find((v) => v.target === "/etc/envoy/envoy.yaml");
  expect(envoyMount?.source).toBe(join(ROOT, "envoy/envoy.compose.yaml"));
  expect(existsSync(envoyMount!.source)).toBe(true);
  const topics = readFileSync(join(ROOT, "scripts/infra/topics.txt"), "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim().split(/\s+/)[0])
    .filter(Boolean);
  const job = JSON.stringify(services["kafka-topics"]);
  for (const topic of topics) expect(job).toContain(`--topic ${topic} `);
});

test("a service that declares the opensearch store gets OPENSEARCH_URL and waits for a healthy OpenSearch, which keeps its data in a named volume", () => {
  const clients = servicesByPort().filter(([, s]) => s.stores.includes("opensearch"));
  expect(clients.length).toBeGreaterThan(0);
  for (const [name] of clients) {
    expect(services[name]?.environment?.["OPENSEARCH_URL"]).toBe(`http://opensearch:${topology.infrastructure.opensearch.port}`);
    expect(services[name]?.depends_on?.["opensearch"]).toMatchObject({ condition: "service_healthy" });
  }
  expect(services["opensearch"]?.healthcheck?.test.join(" ")).toContain("/_cluster/health");
  expect(services["opensearch"]?.volumes?.map((v) => [v.type, v.target])).toContainEqual(["volume", "/usr/share/opensearch/data"]);
});

test("compose ships no secret: every password and shared secret is generated on first start by the secrets job and read from its file", () => {
  const text = readFileSync(join(ROOT, "compose.yaml"), "utf8");
  const literals = [...text.matchAll(/(?:PASSWORD|SECRET)\w*:\s*["']?([^"'\n]+)["']?\s*$/gm)].map((match) => match[1]!.trim());
  expect(literals.filter((value) => DEVELOPMENT_SECRETS.has(value))).toEqual([]);
  const generated = new Set((services["secrets"] as ComposeService & { command: string[] }).command);
  const secretEnv = Object.entries(services).flatMap(([name, service]) =>
    Object.entries(service.environment ?? {})
      .filter(([variable]) => /(PASSWORD|SECRET)(_FILE)?$/.test(variable))
      .map(([variable, value]) => ({ name, variable, value })),
  );
  expect(secretEnv.length).toBeGreaterThan(5);
  // Every secret is a *_FILE pointing at a file the job writes, and its reader waits for the job.
  expect(secretEnv.filter(({ variable, value }) => !variable.endsWith("_FILE") || !generated.has(value))).toEqual([]);
  for (const { name } of secretEnv) expect(services[name]!.depends_on?.["secrets"]).toMatchObject({ condition: "service_completed_successfully" });
});
