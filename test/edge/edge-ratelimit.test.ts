// Global rate limits through the real Envoy and the real ratelimit service on Redis.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { dropDatabase, eventually, spawnService, testDatabaseName, type SpawnedService } from "@shopmesh/platform/testing";
import { at, createIdentityKey, grpcurl, startEdge, waitHealthy, type RunningEnvoy } from "./harness.js";

const identityDatabase = testDatabaseName("identity");
// Login: three requests per nine seconds, so a token comes back every three seconds (the
// burst must arrive within that, the recovery is awaited). The others: three per minute.
const LOGIN_LIMIT = { requests: 3, unit: "second", unitMultiplier: 9 };
const SMALL = { requests: 3, unit: "minute" };

let key: Awaited<ReturnType<typeof createIdentityKey>>;
let limitsDir: string;
let identity: SpawnedService;
let ratelimit: SpawnedService;
let edge: RunningEnvoy;
let strictEdge: RunningEnvoy | undefined;

interface EdgeAnswer {
  status: number;
  code?: string;
  headers: Headers;
}

/** One Connect JSON call through the edge, answered by the edge (limited) or the service. */
async function call(path: string, body: unknown, headers: Record<string, string> = {}, base = edge.baseUrl): Promise<EdgeAnswer> {
  const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  const code = response.status === 200 ? undefined : (JSON.parse(text || "{}") as { code?: string }).code;
  return { status: response.status, code, headers: response.headers };
}

const LOGIN = "/shopmesh.identity.v1.IdentityService/Login";
const GET_ME = "/shopmesh.identity.v1.IdentityService/GetMe";
const SEARCH = "/shopmesh.catalog.v1.CatalogService/SearchProducts";
// Rejected by the contract's validation at once: the test measures the edge, not argon2.
const badLogin = { email: "not-an-email", password: "x" };

const limited = (answers: EdgeAnswer[]) => answers.filter((answer) => answer.status === 429);

beforeAll(async () => {
  key = await createIdentityKey();
  limitsDir = await mkdtemp(join(tmpdir(), "edge-ratelimit-limits-"));
  const limitsFile = join(limitsDir, "limits.json");
  await writeFile(limitsFile, JSON.stringify({ classes: { default: SMALL, login: LOGIN_LIMIT, search: SMALL } }));
  [identity, ratelimit] = await Promise.all([
    spawnService("identity", { IDENTITY_DATABASE: identityDatabase, JWT_SIGNING_KEY_FILE: key.file }),
    spawnService("ratelimit", { RATELIMIT_LIMITS_FILE: limitsFile }),
  ]);
  edge = await startEdge(
    { identity: at(identity), ratelimit: at(ratelimit) },
    { rateLimitDomain: `edge-ratelimit-${randomUUID()}`, rateLimitTimeoutMs: 5_000 },
  );
  await Promise.all(["identity_grpc", "identity_http", "ratelimit"].map((cluster) => waitHealthy(edge, cluster)));
}, 90_000);

afterAll(async () => {
  await strictEdge?.stop();
  await edge?.stop();
  await Promise.all([identity?.stop(), ratelimit?.stop()]);
  await dropDatabase(identityDatabase);
  await key?.remove();
  await rm(limitsDir, { recursive: true, force: true });
});

test("when an anonymous client bursts Login past the login limit, then the rest get 429 / RESOURCE_EXHAUSTED with x-ratelimit headers, and it may try again after the window", async () => {
  const burstStarted = Date.now();
  const burst = await Promise.all(Array.from({ length: 6 }, () => call(LOGIN, badLogin)));
  const burstMs = Date.now() - burstStarted;

  expect(burst.filter((answer) => answer.code === "invalid_argument")).toHaveLength(3);
  expect(limited(burst)).toHaveLength(3);
  const refused = limited(burst)[0]!;
  expect(refused.code).toBe("resource_exhausted");
  expect(refused.headers.get("x-ratelimit-limit")).toMatch(/^3, 3;w=1/);
  expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
  // Whole seconds until the refused call could pass: one token is back a token interval after
  // the burst took the first, so between that interval less the burst's duration and the interval.
  const tokenIntervalMs = (LOGIN_LIMIT.unitMultiplier * 1000) / LOGIN_LIMIT.requests;
  const reset = refused.headers.get("x-ratelimit-reset");
  expect(reset).toMatch(/^\d+$/);
  expect(Number(reset)).toBeLessThanOrEqual(tokenIntervalMs / 1000);
  expect(Number(reset)).toBeGreaterThanOrEqual(Math.floor((tokenIntervalMs - burstMs) / 1000));

  // Connect and gRPC clients read the same refusal as RESOURCE_EXHAUSTED.
  const connect = createClient(IdentityService, createConnectTransport({ baseUrl: edge.baseUrl, httpVersion: "1.1" }));
  const error = await connect.login(badLogin).then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );
  expect(error && Code[error.code]).toBe(Code[Code.ResourceExhausted]);
  const viaGrpc = await grpcurl(`127.0.0.1:${edge.port}`, "shopmesh.identity.v1.IdentityService/Login", badLogin);
  expect(viaGrpc.stderr).toContain("Code: ResourceExhausted");

  const later = await eventually(
    async () => {
      const answer = await call(LOGIN, badLogin);
      return answer.status === 429 ? undefined : answer;
    },
    { timeoutMs: 12_000, intervalMs: 250, what: "a token to come back" },
  );
  expect(later.code).toBe("invalid_argument");
});

test("when a guesser sends Login with valid tokens of many accounts of their own, then it is still limited by address: a token buys no fresh budget", async () => {
  const tokens = await Promise.all(Array.from({ length: 6 }, () => key.token({ sub: randomUUID(), roles: ["customer"] })));
  const burst = await Promise.all(tokens.map((token) => call(LOGIN, badLogin, { authorization: `Bearer ${token}` })));
  // One address, one login budget of 3 (part of it spent above): at least half are refused.
  expect(limited(burst).length).toBeGreaterThanOrEqual(3);
});

test("when a signed-in customer spends their budget, then only they are limited: another customer keeps theirs", async () => {
  const alice = await key.token({ sub: randomUUID(), roles: ["customer"] });
  const bob = await key.token({ sub: randomUUID(), roles: ["customer"] });

  const aliceBurst = await Promise.all(Array.from({ length: 5 }, () => call(GET_ME, {}, { authorization: `Bearer ${alice}` })));
  expect(limited(aliceBurst)).toHaveLength(2);
  // Not limited: identity answers (the minted user does not exist there).
  expect(aliceBurst.filter((answer) => answer.code === "not_found")).toHaveLength(3);

  const bobAnswer = await call(GET_ME, {}, { authorization: `Bearer ${bob}` });
  expect(bobAnswer.code).toBe("not_found");
  expect(bobAnswer.headers.get("x-ratelimit-remaining")).toBe("2");
});

test("when a client sends its own x-shopmesh-user-id header to look like many users, then the edge drops it and limits by address", async () => {
  const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => call(SEARCH, { query: "shoes" }, { "x-shopmesh-user-id": `forged-${i}` })));
  expect(limited(burst)).toHaveLength(3);
  // The others passed the limit (no catalog runs in this file, so the edge has no upstream for them).
  expect(burst.filter((answer) => answer.status !== 429).every((answer) => answer.code === "unavailable")).toBe(true);
});

test("when the ratelimit service is down, then the edge fails open by default, and answers UNAVAILABLE when generated with failure_mode_deny", async () => {
  strictEdge = await startEdge(
    { identity: at(identity), ratelimit: at(ratelimit) },
    { rateLimitDomain: `edge-strict-${randomUUID()}`, rateLimitFailureModeDeny: true },
  );
  await waitHealthy(strictEdge, "identity_http");
  await ratelimit.stop();

  const open = await Promise.all(Array.from({ length: 5 }, () => call(LOGIN, badLogin)));
  expect(open.map((answer) => answer.code)).toEqual(Array(5).fill("invalid_argument"));
  expect(open[0]!.headers.get("x-ratelimit-limit")).toBeNull();

  const strict = await call(LOGIN, badLogin, {}, strictEdge.baseUrl);
  expect(strict.status).toBe(503);
  expect(strict.code).toBe("unavailable");
});
