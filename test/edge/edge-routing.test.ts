// Through the real Envoy, rendered from the contracts: protocols, routing, JWT and CORS.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { dropDatabase, spawnService, testDatabaseName, type SpawnedService, expectCode } from "@shopmesh/platform/testing";
import { at, createIdentityKey, grpcurl, startEdge, waitHealthy, type RunningEnvoy } from "./harness.js";

const identityDatabase = testDatabaseName("identity");
const catalogDatabase = testDatabaseName("catalog");
const ALLOWED_ORIGIN = "http://localhost:5173";

let key: Awaited<ReturnType<typeof createIdentityKey>>;
let limitsDir: string;
let services: SpawnedService[] = [];
let edge: RunningEnvoy;

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };

const connect = (token?: string): Transport =>
  createConnectTransport({ baseUrl: edge.baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors: token ? [bearer(token)] : [] });

const newCustomer = () => ({ email: `edge-${randomUUID()}@example.com`, password: "correct horse battery", displayName: "Edge Shopper" });

beforeAll(async () => {
  key = await createIdentityKey();
  limitsDir = await mkdtemp(join(tmpdir(), "edge-routing-limits-"));
  const limitsFile = join(limitsDir, "limits.json");
  // Generous: this file is about routing and auth, edge-ratelimit.test.ts about the limits.
  await writeFile(limitsFile, JSON.stringify({ classes: { default: { requests: 1000, unit: "second" }, login: { requests: 1000, unit: "second" } } }));
  const [identity, ratelimit] = await Promise.all([
    spawnService("identity", {
      IDENTITY_DATABASE: identityDatabase,
      JWT_SIGNING_KEY_FILE: key.file,
      IDENTITY_ADMIN_EMAIL: "edge-admin@shopmesh.test",
      IDENTITY_ADMIN_PASSWORD: "edge-admin-password",
    }),
    spawnService("ratelimit", { RATELIMIT_LIMITS_FILE: limitsFile }),
  ]);
  services = [identity!, ratelimit!];
  const catalog = await spawnService("catalog", { CATALOG_DATABASE: catalogDatabase, JWKS_URL: `http://127.0.0.1:${identity!.port}/.well-known/jwks.json` });
  services.push(catalog);
  edge = await startEdge(
    { identity: at(identity!), catalog: at(catalog), ratelimit: at(ratelimit!) },
    { rateLimitDomain: `edge-routing-${randomUUID()}`, storefrontOrigins: [ALLOWED_ORIGIN] },
  );
  await Promise.all(["identity_grpc", "identity_http", "catalog_grpc", "catalog_http", "ratelimit"].map((cluster) => waitHealthy(edge, cluster)));
}, 90_000);

afterAll(async () => {
  await edge?.stop();
  await Promise.all(services.map((service) => service.stop()));
  await Promise.all([dropDatabase(identityDatabase), dropDatabase(catalogDatabase)]);
  await key?.remove();
  await rm(limitsDir, { recursive: true, force: true });
});

describe("one edge port, three protocols", () => {
  test("when a browser calls a public RPC with Connect JSON over HTTP/1.1, then the service answers through the edge", async () => {
    const admin = await key.token({ sub: randomUUID(), roles: ["customer", "admin"] });
    const slug = `edge-json-${randomUUID().slice(0, 8)}`;
    const { category } = await createClient(CatalogService, connect(admin)).createCategory({ category: { slug, name: "Listed as JSON" } });
    const response = await fetch(`${edge.baseUrl}/shopmesh.catalog.v1.CatalogService/ListCategories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    // The proto3 JSON of ListCategoriesResponse: camelCase names, empty fields left out.
    expect(await response.json()).toEqual({ categories: expect.arrayContaining([{ id: category!.id, slug, name: "Listed as JSON" }]) });
  });

  test("when a request body is larger than any message of the contracts (2 MiB), then the edge answers 413 without passing it on", async () => {
    const response = await fetch(`${edge.baseUrl}/shopmesh.catalog.v1.CatalogService/SearchProducts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
  });

  test("when an operator calls a public RPC with grpcurl (HTTP/2 prior knowledge), then it reaches the gRPC side of the service", async () => {
    const result = await grpcurl(`127.0.0.1:${edge.port}`, "shopmesh.catalog.v1.CatalogService/ListCategories", {});
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("when a browser calls a public RPC with gRPC-Web, then connect-node answers it behind the edge", async () => {
    const client = createClient(IdentityService, createGrpcWebTransport({ baseUrl: edge.baseUrl, httpVersion: "1.1" }));
    const registration = newCustomer();
    const response = await client.register(registration);
    expect(response.user?.email).toBe(registration.email);
    expect(response.tokens?.accessToken).toMatch(/^ey/);
  });

  test("when anyone calls an internal-only RPC, then the edge answers 404 (gRPC: UNIMPLEMENTED) although the service itself serves it", async () => {
    const reserve = await fetch(`${edge.baseUrl}/shopmesh.inventory.v1.InventoryService/ReserveStock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(reserve.status).toBe(404);

    const ratelimit = services[1]!;
    const request = { domain: "probe", descriptors: [{ entries: [{ key: "class", value: "default" }] }] };
    const proto = "envoy/service/ratelimit/v3/rls.proto";
    const method = "envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit";
    const direct = await grpcurl(`127.0.0.1:${ratelimit.port}`, method, request, {}, proto);
    expect(direct.stdout).toContain('"overallCode": "OK"');
    const viaEdge = await grpcurl(`127.0.0.1:${edge.port}`, method, request, {}, proto);
    expect(viaEdge.code).not.toBe(0);
    expect(viaEdge.stderr).toContain("Code: Unimplemented");
  });
});

describe("the edge checks tokens before any service does", () => {
  test("when a protected RPC is called without a token, then Connect and gRPC callers get UNAUTHENTICATED from the edge", async () => {
    const error = await expectCode(createClient(IdentityService, connect()).getMe({}), Code.Unauthenticated);
    expect(error.rawMessage).toBe("Jwt is missing");

    const viaGrpc = await grpcurl(`127.0.0.1:${edge.port}`, "shopmesh.identity.v1.IdentityService/GetMe", {});
    expect(viaGrpc.stderr).toContain("Code: Unauthenticated");
  });

  test("when the token is expired or signed by another key, then the caller gets UNAUTHENTICATED, on protected and public RPCs alike", async () => {
    const expired = await key.token({ sub: randomUUID(), roles: ["customer"], expiresInSeconds: -300 });
    const forged = await key.forgedToken({ sub: randomUUID(), roles: ["customer", "admin"] });

    expect((await expectCode(createClient(IdentityService, connect(expired)).getMe({}), Code.Unauthenticated)).rawMessage).toBe("Jwt is expired");
    expect((await expectCode(createClient(IdentityService, connect(forged)).getMe({}), Code.Unauthenticated)).rawMessage).toBe("Jwt verification fails");
    // A public RPC takes no token, but one that is sent must be valid.
    await expectCode(createClient(CatalogService, connect(forged)).listCategories({}), Code.Unauthenticated);

    const viaGrpc = await grpcurl(`127.0.0.1:${edge.port}`, "shopmesh.identity.v1.IdentityService/GetMe", {}, { authorization: `Bearer ${forged}` });
    expect(viaGrpc.stderr).toContain("Code: Unauthenticated");
  });

  test("when a customer signs up through the edge, then their token opens their own account over Connect and gRPC", async () => {
    const registration = newCustomer();
    const { user, tokens } = await createClient(IdentityService, connect()).register(registration);

    const me = await createClient(IdentityService, connect(tokens!.accessToken)).getMe({});
    expect(me.user?.id).toBe(user!.id);

    const viaGrpc = await grpcurl(
      `127.0.0.1:${edge.port}`,
      "shopmesh.identity.v1.IdentityService/GetMe",
      {},
      { authorization: `Bearer ${tokens!.accessToken}` },
    );
    expect(viaGrpc.code).toBe(0);
    expect(JSON.parse(viaGrpc.stdout).user.id).toBe(user!.id);
  });

  test("when a customer calls an admin RPC, then the edge lets the valid token through and the service answers PERMISSION_DENIED", async () => {
    const { user, tokens } = await createClient(IdentityService, connect()).register(newCustomer());
    const asCustomer = connect(tokens!.accessToken);

    await expectCode(createClient(IdentityService, asCustomer).getUser({ userId: user!.id }), Code.PermissionDenied);
    await expectCode(createClient(CatalogService, asCustomer).createCategory({ category: { slug: "edge-denied", name: "Denied" } }), Code.PermissionDenied);

    const admin = await key.token({ sub: randomUUID(), roles: ["customer", "admin"] });
    const found = await createClient(IdentityService, connect(admin)).getUser({ userId: user!.id });
    expect(found.user?.email).toBe(user!.email);
    const created = await createClient(CatalogService, connect(admin)).createCategory({ category: { slug: `edge-${Date.now()}`, name: "Through the edge" } });
    expect(created.category?.id).toBeTruthy();
  });
});

describe("CORS for the storefront", () => {
  const preflight = (origin: string) =>
    fetch(`${edge.baseUrl}/shopmesh.identity.v1.IdentityService/GetMe`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,connect-protocol-version" },
    });

  test("when the storefront origin sends a preflight, then the edge answers it with the allowed methods and headers", async () => {
    const response = await preflight(ALLOWED_ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = response.headers.get("access-control-allow-headers")!.split(/,\s*/);
    expect(allowed).toEqual(
      expect.arrayContaining(["authorization", "content-type", "connect-protocol-version", "connect-timeout-ms", "grpc-timeout", "x-grpc-web", "x-user-agent"]),
    );
    expect(response.headers.get("access-control-expose-headers")).toContain("grpc-status");
  });

  test("when another origin sends a preflight or a request, then no CORS header allows it", async () => {
    const response = await preflight("https://evil.example");
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();

    const request = await fetch(`${edge.baseUrl}/shopmesh.catalog.v1.CatalogService/ListCategories`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: "{}",
    });
    expect(request.headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await fetch(`${edge.baseUrl}/shopmesh.catalog.v1.CatalogService/ListCategories`, {
      method: "POST",
      headers: { origin: ALLOWED_ORIGIN, "content-type": "application/json" },
      body: "{}",
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
  });
});
