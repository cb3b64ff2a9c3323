// The topology (platform/src/topology.ts) against everything else that says the same thing:
// the contracts, the service folders and their config schemas, the code's topics, the shell
// defaults, and the files generated from it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { z } from "zod";
import { serviceSpec, servicesByPort, topology, type ServiceName } from "@shopmesh/platform/topology";
import { loadContractServices, upstreamOf } from "../../tools/envoy-gen/src/index.js";
import { generatedFiles } from "../../tools/topology-gen/src/index.js";
import { REPO_ROOT } from "../edge/harness.js";

const services = servicesByPort();
const names = services.map(([name]) => name);
const grpcServices = services.filter(([, s]) => s.kind === "grpc").map(([name]) => name);

/** Every `.ts` file under `dir` except tests. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The gRPC service `<package>.<Service>` from the generated code, found by its package's folder. */
async function generatedService(typeName: string): Promise<DescService | undefined> {
  const dir = join(REPO_ROOT, "gen", "src", ...typeName.split(".").slice(0, -1));
  if (!existsSync(dir)) return undefined;
  for (const file of readdirSync(dir).filter((f) => f.endsWith("_pb.js"))) {
    const module = (await import(join(dir, file))) as Record<string, { kind?: string; typeName?: string }>;
    const found = Object.values(module).find((value) => value?.kind === "service" && value.typeName === typeName);
    if (found) return found as DescService;
  }
  return undefined;
}

describe("the topology and the contracts", () => {
  test("when the contracts are loaded, then every contract service is served by a gRPC service of the topology, and every gRPC service serves one", async () => {
    const upstreams = new Set((await loadContractServices()).map((service) => upstreamOf(service.typeName)));
    expect([...upstreams].filter((upstream) => !grpcServices.includes(upstream as ServiceName))).toEqual([]);
    const withoutContract = grpcServices.filter((name) => !upstreams.has(name));
    for (const name of withoutContract) {
      const implemented = serviceSpec(name).implements;
      expect({ name, implements: implemented }).toEqual({ name, implements: expect.any(String) });
      expect(await generatedService(implemented!)).toBeDefined();
    }
    expect(services.filter(([name, s]) => s.kind === "http" && upstreams.has(name))).toEqual([]);
  });

  test("when services name each other and topics, then every callee, topic and database is declared and consistent", () => {
    for (const [name, s] of services) {
      expect({ name, unknownCallees: s.calls.filter((callee) => !names.includes(callee) || callee === name) }).toEqual({ name, unknownCallees: [] });
      expect({ name, database: s.database !== undefined }).toEqual({ name, database: s.stores.includes("mysql") });
      // A deployed service reaches a dev-only stand-in only through a URL variable it can be given elsewhere.
      const urlOf = (callee: string) => Object.values(s.env ?? {}).some((value) => typeof value !== "string" && value.urlOf === callee);
      if (!s.devOnly)
        expect({ name, devOnlyCallees: s.calls.filter((callee) => serviceSpec(callee).devOnly && !urlOf(callee)) }).toEqual({ name, devOnlyCallees: [] });
    }
    const producers = Object.keys(topology.topics).map((topic) => [
      topic,
      services.filter(([, s]) => (s.produces as string[]).includes(topic)).map(([n]) => n),
    ]);
    expect(producers).toEqual(Object.keys(topology.topics).map((topic) => [topic, [topic]]));
  });

  test("when defaults are listed, then no two ports and no two variables are the same", () => {
    const endpoints = [...services.map(([, s]) => ({ port: s.port, env: s.portEnv })), ...Object.values(topology.infrastructure), topology.storefront];
    const ports = endpoints.map((e) => e.port);
    const variables = endpoints.map((e) => e.env);
    expect(ports.filter((port, i) => ports.indexOf(port) !== i)).toEqual([]);
    expect(variables.filter((env, i) => variables.indexOf(env) !== i)).toEqual([]);
  });
});

describe("the topology and the code", () => {
  test("when services/ is listed, then every service folder has a topology entry and none keeps a package.json manifest of its own", () => {
    const folders = readdirSync(join(REPO_ROOT, "services")).filter((name) => existsSync(join(REPO_ROOT, "services", name, "package.json")));
    expect(folders.sort()).toEqual([...names].sort());
    for (const folder of folders) {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "services", folder, "package.json"), "utf8")) as Record<string, unknown>;
      expect({ folder, shopmesh: manifest["shopmesh"] }).toEqual({ folder, shopmesh: undefined });
    }
  });

  test.each(names)("when %s loads its config with an empty environment, then its port and database come from the topology", async (name) => {
    const module = (await import(join(REPO_ROOT, "services", name, "src", "config.ts"))) as Record<string, unknown>;
    const [shape] = Object.entries(module).filter(([key]) => key.endsWith("ConfigShape")) as Array<[string, Record<string, z.ZodType>]>;
    expect(shape).toBeDefined();
    const s = serviceSpec(name);
    expect(shape![1][s.portEnv]?.parse(undefined)).toBe(s.port);
    if (s.database) expect(shape![1][s.database.env]?.parse(undefined)).toBe(s.database.name);
  });

  test.each(names)("when the source of %s names topics, then they are the ones it produces or consumes in the topology", (name) => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(REPO_ROOT, "services", name, "src"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/\bTOPICS\.([a-z]+)/g)) used.add(match[1]!);
    }
    const s = serviceSpec(name);
    expect([...used].sort()).toEqual([...new Set([...s.produces, ...s.consumes])].sort());
  });

  test("when scripts/infra/env.sh sets port defaults, then they are the topology's", () => {
    const shell = readFileSync(join(REPO_ROOT, "scripts", "infra", "env.sh"), "utf8");
    const defaults = Object.fromEntries([...shell.matchAll(/^export ([A-Z_]+_PORT)="\$\{\1:-(\d+)\}"$/gm)].map((m) => [m[1]!, Number(m[2])]));
    const infrastructure = Object.fromEntries(Object.values(topology.infrastructure).map((e) => [e.env, e.port]));
    expect(defaults).toEqual(infrastructure);
  });

  test("when the storefront's scripts and image default its port, then it is the topology's", () => {
    const { port, env } = topology.storefront;
    const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
    // Both run without the platform's build: before it (npm start) and in the storefront image.
    for (const path of ["scripts/web/storefront.mjs", "scripts/web/serve.mjs"]) {
      const defaults = [...read(path).matchAll(new RegExp(`process\\.env\\.${env} \\?\\? (\\d+)`, "g"))].map((m) => Number(m[1]));
      expect({ path, defaults }).toEqual({ path, defaults: [port] });
    }
    const dockerfile = read("web/Dockerfile");
    expect([...dockerfile.matchAll(new RegExp(`\\b${env}=(\\d+)|^EXPOSE (\\d+)`, "gm"))].map((m) => Number(m[1] ?? m[2]))).toEqual([port, port]);
  });
});

describe("the files generated from the topology", () => {
  test.each(generatedFiles().map((file) => [file.path, file.text]))(
    "when %s is rendered again, then the committed file is identical (no drift)",
    (path, text) => {
      expect(readFileSync(join(REPO_ROOT, path), "utf8")).toBe(text);
    },
  );
});
