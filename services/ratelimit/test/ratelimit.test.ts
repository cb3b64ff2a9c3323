import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { RateLimitResponse_Code as Decision, RateLimitService, type RateLimitResponse } from "@shopmesh/gen/envoy/service/ratelimit/v3/rls_pb.js";
import { type GrpcClient } from "@shopmesh/platform";
import { waitForRedis } from "@shopmesh/platform/redis";
import { connectClient, eventually, grpcClient, testLogger, testRedis } from "@shopmesh/platform/testing";
import { buildRatelimit, loadLimits, type RatelimitApp } from "../src/app.js";
import { loadRatelimitConfig } from "../src/config.js";
import { createRatelimitServer } from "../src/server.js";
import { createTokenBuckets } from "../src/store/token-bucket.js";

let dir: string;
let limitsFile: string;
const replicas: Array<{ app: RatelimitApp; port: number; client: GrpcClient<typeof RateLimitService> }> = [];

/** A request as Envoy sends it; every test has its own domain, so buckets never leak between tests. */
const buildRequest = (domain: string, klass: string, who: { key: string; value: string } = { key: "remote_address", value: "10.1.2.3" }, hitsAddend = 0) => ({
  domain,
  hitsAddend,
  descriptors: [{ entries: [{ key: "class", value: klass }, who] }],
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ratelimit-test-"));
  limitsFile = join(dir, "limits.json");
  await writeFile(
    limitsFile,
    JSON.stringify({ classes: { default: { requests: 100, unit: "second" }, login: { requests: 5, unit: "minute" }, burst: { requests: 2, unit: "second" } } }),
  );
  for (let i = 0; i < 2; i++) {
    const config = loadRatelimitConfig({ ...process.env, NODE_ENV: "test", RATELIMIT_LIMITS_FILE: limitsFile });
    const app = await buildRatelimit(config, testLogger("ratelimit"));
    const port = await app.server.listen(0, "127.0.0.1");
    replicas.push({ app, port, client: grpcClient(RateLimitService, port) });
  }
});

afterAll(async () => {
  for (const { app, client } of replicas) {
    client.close();
    await app.server.shutdown(1_000);
    for (const closer of app.closers) await closer.close();
  }
  await rm(dir, { recursive: true, force: true });
});

describe("ShouldRateLimit over gRPC, as Envoy calls it", () => {
  test("when two replicas answer alternately for one client, then they spend one shared budget", async () => {
    const domain = `test-${randomUUID()}`;
    const answers: RateLimitResponse[] = [];
    for (let i = 0; i < 7; i++) answers.push(await replicas[i % 2]!.client.shouldRateLimit(buildRequest(domain, "login")));

    expect(answers.map((answer) => Decision[answer.overallCode])).toEqual(["OK", "OK", "OK", "OK", "OK", "OVER_LIMIT", "OVER_LIMIT"]);
    expect(answers.map((answer) => answer.statuses[0]!.limitRemaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
    const status = answers[5]!.statuses[0]!;
    expect(status.currentLimit).toMatchObject({ requestsPerUnit: 5, name: "login: 5 per 1 minute" });
    // Refused: the reset is when one token is back (a minute / 5).
    expect(Number(status.durationUntilReset!.seconds)).toBeGreaterThanOrEqual(11);
    expect(Number(status.durationUntilReset!.seconds)).toBeLessThanOrEqual(12);
  });

  test("when another user or address asks, then it has its own bucket; an unknown class gets the default limit", async () => {
    const domain = `test-${randomUUID()}`;
    for (let i = 0; i < 5; i++) await replicas[0]!.client.shouldRateLimit(buildRequest(domain, "login", { key: "user", value: "user-a" }));
    expect((await replicas[1]!.client.shouldRateLimit(buildRequest(domain, "login", { key: "user", value: "user-a" }))).overallCode).toBe(Decision.OVER_LIMIT);
    expect((await replicas[1]!.client.shouldRateLimit(buildRequest(domain, "login", { key: "user", value: "user-b" }))).overallCode).toBe(Decision.OK);
    expect((await replicas[1]!.client.shouldRateLimit(buildRequest(domain, "login", { key: "remote_address", value: "user-a" }))).overallCode).toBe(
      Decision.OK,
    );

    const unknown = await replicas[0]!.client.shouldRateLimit(buildRequest(domain, "no-such-class"));
    expect(unknown.statuses[0]!.currentLimit?.name).toBe("default: 100 per 1 second");
  });

  test("when Envoy adds several hits at once, then they are taken together", async () => {
    const domain = `test-${randomUUID()}`;
    const answer = await replicas[0]!.client.shouldRateLimit(buildRequest(domain, "login", undefined, 4));
    expect(answer.statuses[0]!.limitRemaining).toBe(1);
    expect((await replicas[1]!.client.shouldRateLimit(buildRequest(domain, "login", undefined, 2))).overallCode).toBe(Decision.OVER_LIMIT);
  });

  test("when the window passes, then a limited client is allowed again", async () => {
    const domain = `test-${randomUUID()}`;
    await replicas[0]!.client.shouldRateLimit(buildRequest(domain, "burst", undefined, 2));
    expect((await replicas[1]!.client.shouldRateLimit(buildRequest(domain, "burst"))).overallCode).toBe(Decision.OVER_LIMIT);
    await eventually(async () => ((await replicas[1]!.client.shouldRateLimit(buildRequest(domain, "burst"))).overallCode === Decision.OK ? true : undefined), {
      timeoutMs: 3_000,
      intervalMs: 100,
    });
  });

  test("when a decision is made, then it is counted by class and outcome on /metrics", async () => {
    const domain = `test-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await replicas[0]!.client.shouldRateLimit(buildRequest(domain, "burst"));
    const metrics = await (await fetch(`http://127.0.0.1:${replicas[0]!.port}/metrics`)).text();
    expect(metrics).toMatch(/shopmesh_ratelimit_decisions_total\{class="burst",decision="over_limit",service_name="ratelimit"\} [1-9]/);
    expect(metrics).toMatch(/shopmesh_ratelimit_decisions_total\{class="burst",decision="ok",service_name="ratelimit"\} [2-9]/);
  });

  test("when a browser tries ShouldRateLimit over Connect, then it is refused: the method is internal, gRPC only", async () => {
    const error = await connectClient(RateLimitService, replicas[0]!.port)
      .shouldRateLimit(buildRequest("x", "login"))
      .then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
    expect(error && Code[error.code]).toBe(Code[Code.PermissionDenied]);
  });
});

describe("when Redis cannot answer", () => {
  test.each([
    ["allow", "OK", Decision.OK, "error_allowed"],
    ["deny", "OVER_LIMIT", Decision.OVER_LIMIT, "error_denied"],
  ] as const)("with failure mode %s, then the answer is %s and the decision is counted", async (failureMode, _name, expected, outcome) => {
    // A client whose connection is gone and that neither queues nor reconnects: every command fails, as with Redis away.
    const deadRedis = testRedis();
    await waitForRedis(deadRedis);
    const ended = new Promise((resolve) => deadRedis.once("end", resolve));
    deadRedis.disconnect();
    await ended;
    const server = createRatelimitServer({
      limits: await loadLimits(limitsFile),
      buckets: createTokenBuckets(deadRedis),
      failureMode,
      logger: testLogger("ratelimit"),
    });
    const port = await server.listen(0, "127.0.0.1");
    const client = grpcClient(RateLimitService, port);
    try {
      const answer = await client.shouldRateLimit(buildRequest(`test-${randomUUID()}`, "login"));
      expect(answer.overallCode).toBe(expected);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(`decision="${outcome}"`);
    } finally {
      client.close();
      await server.shutdown(500);
    }
  });
});

describe("configuration", () => {
  test("when the limits file is invalid, then start-up fails naming the variable and the problem", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ classes: { login: { requests: 5, unit: "minute" } } }));
    await expect(loadLimits(bad)).rejects.toThrow(/RATELIMIT_LIMITS_FILE .*default/);
    await expect(loadLimits(join(dir, "missing.json"))).rejects.toThrow(/RATELIMIT_LIMITS_FILE: cannot read/);
    expect(() => loadRatelimitConfig({ RATELIMIT_FAILURE_MODE: "sometimes" })).toThrow(/RATELIMIT_FAILURE_MODE/);
  });

  test("when the shipped limits.json is loaded, then it has the documented classes", async () => {
    const limits = await loadLimits(loadRatelimitConfig({}).RATELIMIT_LIMITS_FILE);
    expect([...limits.values()].map((limit) => limit.description).sort()).toEqual([
      "default: 100 per 1 second",
      "login: 5 per 1 minute",
      "refresh: 60 per 1 minute",
      "search: 20 per 1 second",
    ]);
  });
});
