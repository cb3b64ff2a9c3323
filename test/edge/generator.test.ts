// The generator: committed configs match the contracts, Envoy accepts every variant, and the
// policy options in the contracts drive routes, JWT requirements, rate limits and retries.
import { execFile, spawnSync } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { clone, create, setExtension, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { MethodOptionsSchema } from "@bufbuild/protobuf/wkt";
import { Auth, rule, RuleSchema, type Rule } from "@shopmesh/gen/shopmesh/policy/v1/policy_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import {
  defaultVariantSettings,
  describeService,
  loadContractServices,
  renderEnvoyConfig,
  renderVariant,
  variants,
  type EnvoyConfigOptions,
  type Json,
} from "../../tools/envoy-gen/src/index.js";
import { ENVOY, REPO_ROOT } from "./harness.js";

type Obj = { [key: string]: Json };
interface Route {
  name: string;
  match: Obj;
  route?: Obj & { cluster: string; timeout?: string; retry_policy?: Obj; rate_limits?: Array<{ actions: Obj[] }> };
  direct_response?: Obj;
  typed_per_filter_config?: Obj;
}

let contractServices: DescService[];
let localOptions: EnvoyConfigOptions;

beforeAll(async () => {
  contractServices = await loadContractServices();
  localOptions = variants(contractServices.map(describeService), defaultVariantSettings()).find((variant) => variant.file === "envoy.yaml")!.options;
});

function connectionManager(config: Obj): Obj {
  const listener = (((config["static_resources"] as Obj)["listeners"] as Obj[])[0]!["filter_chains"] as Obj[])[0]!;
  return (listener["filters"] as Obj[])[0]!["typed_config"] as Obj;
}

function routesOf(config: Obj): Route[] {
  const routeConfig = connectionManager(config)["route_config"] as Obj;
  return (routeConfig["virtual_hosts"] as Obj[])[0]!["routes"] as unknown as Route[];
}

const routesFor = (config: Obj, path: string) => routesOf(config).filter((route) => route.match["path"] === path);
const requirementOf = (route: Route) => ((route.typed_per_filter_config!["envoy.filters.http.jwt_authn"] as Obj)["requirement_name"] as string) ?? undefined;
const rateLimitClassOf = (route: Route) => (route.route!.rate_limits![0]!.actions[0]!["generic_key"] as Obj)["descriptor_value"];

/** A copy of a service whose one method declares `changes` on top of its contract rule. */
function withRule(service: DescService, methodName: string, changes: Partial<Pick<Rule, "auth" | "rateLimit" | "idempotent" | "timeoutMs">>): DescService {
  const methods = service.methods.map((method): DescMethod => {
    if (method.name !== methodName) return method;
    const options = clone(MethodOptionsSchema, method.proto.options ?? create(MethodOptionsSchema));
    const current = localOptions.services.find((s) => s.typeName === service.typeName)!.routable.find((m) => m.name === methodName);
    setExtension(
      options,
      rule,
      create(RuleSchema, {
        auth: current ? (current.auth === "public" ? Auth.PUBLIC : Auth.USER) : Auth.INTERNAL,
        rateLimit: current?.rateLimitClass ?? "",
        idempotent: current?.idempotent ?? false,
        timeoutMs: current?.timeoutMs ?? 0,
        ...changes,
      }),
    );
    return { ...method, proto: { ...method.proto, options } };
  });
  return { ...service, methods };
}

function renderWith(service: DescService): Obj {
  const services = contractServices.map((s) => (s.typeName === service.typeName ? service : s)).map(describeService);
  return renderEnvoyConfig({ ...localOptions, services });
}

function validate(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(ENVOY, ["--mode", "validate", "-c", file, "--log-level", "error"], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe("the committed configs", () => {
  test("when the contracts are rendered again, then every committed envoy/*.yaml is identical (no drift)", async () => {
    for (const variant of variants(contractServices.map(describeService), defaultVariantSettings())) {
      const committed = await readFile(join(REPO_ROOT, "envoy", variant.file), "utf8");
      expect({ file: variant.file, text: committed }).toEqual({ file: variant.file, text: renderVariant(variant) });
    }
  });

  test.each(["envoy.yaml", "envoy.compose.yaml", "envoy.k8s.yaml"])("when envoy validates %s, then it accepts it", async (file) => {
    const result = await validate(join(REPO_ROOT, "envoy", file));
    expect(result.output).toContain("OK");
    expect(result.code).toBe(0);
  });

  test("when the variants are compared, then only listen and upstream addresses differ", () => {
    const rendered = variants(contractServices.map(describeService), defaultVariantSettings()).map((variant) => renderEnvoyConfig(variant.options));
    const withoutAddresses = (config: Obj) =>
      JSON.stringify(config)
        .replace(/"address":"[^"]*"/g, '"address":"*"')
        .replace(/"uri":"http:\/\/[^/]+\//g, '"uri":"http://*/');
    expect(new Set(rendered.map(withoutAddresses)).size).toBe(1);
    expect(JSON.stringify(rendered[1])).toContain('"address":"identity"');
    expect(JSON.stringify(rendered[2])).toContain('"address":"identity.shopmesh.svc.cluster.local"');
  });
});

describe("the command line", () => {
  const GENERATOR = join(REPO_ROOT, "tools", "envoy-gen", "dist", "main.js");

  test.each([
    [["--chek"], "Unknown option '--chek'"],
    [["--check", "--local", "/tmp/envoy.yaml"], "--check and --local exclude each other"],
    [["check"], "Unexpected argument 'check'"],
  ])("when envoy-gen is run with %j, then it exits 2 with one line saying why and writes nothing", async (args, problem) => {
    const before = await stat(join(REPO_ROOT, "envoy", "envoy.yaml"));
    const result = spawnSync(process.execPath, [GENERATOR, ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
    expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 2, stdout: "" });
    expect(result.stderr.trimEnd().split("\n")).toEqual([expect.stringContaining(`envoy-gen: ${problem}`)]);
    expect((await stat(join(REPO_ROOT, "envoy", "envoy.yaml"))).mtimeMs).toBe(before.mtimeMs);
  });
});

describe("routes follow the policy options of the contracts", () => {
  test("when an RPC is public or user, then it gets a gRPC route and a Connect/gRPC-Web route; internal RPCs get none", () => {
    const config = renderEnvoyConfig(localOptions);
    const login = routesFor(config, "/shopmesh.identity.v1.IdentityService/Login");
    expect(login.map((route) => [route.match["grpc"] !== undefined, route.route!.cluster])).toEqual([
      [true, "identity_grpc"],
      [false, "identity_http"],
    ]);
    expect(routesFor(config, "/shopmesh.inventory.v1.InventoryService/ReserveStock")).toEqual([]);
    expect(routesFor(config, "/shopmesh.notification.v1.NotificationService/Notify")).toEqual([]);
    expect(routesOf(config).at(-1)!.direct_response).toEqual({ status: 404, body: { inline_string: "no route" } });
  });

  test("when a method is public, then it is limited per client address only (a token buys no budget); a user method per user, or per address when anonymous", () => {
    const config = renderEnvoyConfig(localOptions);
    const [login] = routesFor(config, "/shopmesh.identity.v1.IdentityService/Login");
    expect(login!.route!.rate_limits).toEqual([{ actions: [{ generic_key: { descriptor_key: "class", descriptor_value: "login" } }, { remote_address: {} }] }]);
    const [getMe] = routesFor(config, "/shopmesh.identity.v1.IdentityService/GetMe");
    const keys = getMe!.route!.rate_limits!.map((set) => set.actions.slice(1).map((action) => Object.keys(action)[0]));
    expect(keys).toEqual([["request_headers"], ["header_value_match", "remote_address"]]);
  });

  test("when the contract declares class, idempotency and timeout, then the routes carry them", () => {
    const config = renderEnvoyConfig(localOptions);
    const [login] = routesFor(config, "/shopmesh.identity.v1.IdentityService/Login");
    expect(requirementOf(login!)).toBe("public");
    expect(rateLimitClassOf(login!)).toBe("login");
    expect(login!.route!.retry_policy).toBeUndefined();
    expect(login!.route!.timeout).toBe("10s");

    const [getUser] = routesFor(config, "/shopmesh.identity.v1.IdentityService/GetUser");
    expect(requirementOf(getUser!)).toBe("user");
    expect(getUser!.route!.retry_policy).toMatchObject({ retry_on: expect.stringContaining("unavailable"), num_retries: 2 });

    expect(routesFor(config, "/shopmesh.order.v1.OrderService/PlaceOrder")[0]!.route!.timeout).toBe("15s");
    const [watch] = routesFor(config, "/shopmesh.order.v1.OrderService/WatchOrder");
    expect(watch!.route!.timeout).toBe("0s");
    expect(watch!.route!["max_stream_duration"]).toEqual({ grpc_timeout_header_max: "0s" });
  });

  test("when a method's policy option is edited, then the generated route, requirement, class and retries change with it", () => {
    const before = renderEnvoyConfig(localOptions);
    expect(requirementOf(routesFor(before, "/shopmesh.identity.v1.IdentityService/GetMe")[0]!)).toBe("user");

    const getMePublic = renderWith(withRule(IdentityService, "GetMe", { auth: Auth.PUBLIC }));
    expect(routesFor(getMePublic, "/shopmesh.identity.v1.IdentityService/GetMe").map(requirementOf)).toEqual(["public", "public"]);

    const getUserInternal = renderWith(withRule(IdentityService, "GetUser", { auth: Auth.INTERNAL }));
    expect(routesFor(getUserInternal, "/shopmesh.identity.v1.IdentityService/GetUser")).toEqual([]);

    const loginChanged = renderWith(withRule(IdentityService, "Login", { rateLimit: "search", idempotent: true, timeoutMs: 2500 }));
    const [login] = routesFor(loginChanged, "/shopmesh.identity.v1.IdentityService/Login");
    expect(rateLimitClassOf(login!)).toBe("search");
    expect(login!.route!.retry_policy).toBeDefined();
    expect(login!.route!.timeout).toBe("2.5s");
  });
});

describe("edge-wide settings", () => {
  test("when the config is rendered, then filters run cors, backstop, body cap, jwt, global rate limit, router, and the JWT provider forwards the token and sets the user header", () => {
    const manager = connectionManager(renderEnvoyConfig(localOptions));
    const filters = (manager["http_filters"] as Obj[]).map((filter) => filter["name"]);
    expect(filters).toEqual([
      "envoy.filters.http.cors",
      "envoy.filters.http.local_ratelimit",
      "envoy.filters.http.buffer",
      "envoy.filters.http.jwt_authn",
      "envoy.filters.http.ratelimit",
      "envoy.filters.http.router",
    ]);
    expect(((manager["http_filters"] as Obj[])[2]!["typed_config"] as Obj)["max_request_bytes"]).toBe(1_048_576);
    const jwt = (manager["http_filters"] as Obj[])[3]!["typed_config"] as Obj;
    expect((jwt["providers"] as Obj)["identity"]).toMatchObject({
      issuer: "shopmesh-identity",
      audiences: ["shopmesh"],
      forward: true,
      claim_to_headers: [{ header_name: "x-shopmesh-user-id", claim_name: "sub" }],
    });
    expect((jwt["requirement_map"] as Obj)["public"]).toEqual({ requires_any: { requirements: [{ provider_name: "identity" }, { allow_missing: {} }] } });
    const ratelimit = (manager["http_filters"] as Obj[])[4]!["typed_config"] as Obj;
    expect(ratelimit).toMatchObject({ failure_mode_deny: false, enable_x_ratelimit_headers: "DRAFT_VERSION_03", rate_limited_as_resource_exhausted: true });
    expect(connectionManager(renderEnvoyConfig({ ...localOptions, rateLimitFailureModeDeny: true }))["http_filters"]).toEqual(
      expect.arrayContaining([expect.objectContaining({ typed_config: expect.objectContaining({ failure_mode_deny: true }) })]),
    );
  });
});
