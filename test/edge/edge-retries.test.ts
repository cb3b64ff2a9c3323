// Through the real Envoy, rendered from the contracts: the edge retries what the contract marks
// idempotent when the upstream answers with a condition the generated retry_on names (gRPC
// UNAVAILABLE on the HTTP/2 side, 503 on the HTTP/1.1 side), and nothing else.
import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { createTestTokens, startStubServer } from "@shopmesh/platform/testing";
import { startEdge, waitHealthy, type RunningEnvoy } from "./harness.js";

/**
 * Identity as the edge sees it, on the platform's server (grpc-js behind the edge's HTTP/2
 * cluster, connect-node behind its HTTP/1.1 one): Logout (idempotent) and Login (not). Each
 * counts its attempts per request key (refresh token, email) and fails the first
 * `failures.get(key)` of them with UNAVAILABLE.
 */
async function startFlakyIdentity() {
  const attempts = new Map<string, number>();
  const failures = new Map<string, number>();
  const attempt = (key: string) => {
    const count = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, count);
    if (count <= (failures.get(key) ?? 0)) throw new ConnectError("identity is restarting", Code.Unavailable);
  };
  const server = await startStubServer(
    IdentityService,
    {
      logout(request) {
        attempt(request.refreshToken);
        return {};
      },
      login(request) {
        attempt(request.email);
        return { user: { email: request.email } };
      },
    },
    { name: "flaky-identity", verifier: (await createTestTokens()).verifier },
  );
  return { port: server.port, attempts, failures, stop: () => server.stop() };
}

let identity: Awaited<ReturnType<typeof startFlakyIdentity>>;
let edge: RunningEnvoy;

beforeAll(async () => {
  identity = await startFlakyIdentity();
  edge = await startEdge({ identity: { host: "127.0.0.1", port: identity.port } }, { rateLimitTimeoutMs: 100 });
  await Promise.all(["identity_grpc", "identity_http"].map((cluster) => waitHealthy(edge, cluster)));
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  await identity?.stop();
});

const protocols: Array<[string, () => Transport]> = [
  ["gRPC (HTTP/2, answered UNAVAILABLE)", () => createGrpcTransport({ baseUrl: edge.baseUrl })],
  ["Connect (HTTP/1.1, answered 503)", () => createConnectTransport({ baseUrl: edge.baseUrl, httpVersion: "1.1" })],
];

/** A key this test alone uses (shaped as an email, so it serves as a login too), whose first `failures` attempts the upstream fails. */
function failingKey(failures: number): string {
  const key = `edge-retry-${randomUUID()}@shopmesh.test`;
  identity.failures.set(key, failures);
  return key;
}

async function codeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "OK",
    (err: unknown) => Code[ConnectError.from(err).code],
  );
}

describe.each(protocols)("through the edge with %s", (_protocol, transport) => {
  let client: Client<typeof IdentityService>;
  beforeAll(() => {
    client = createClient(IdentityService, transport());
  });

  test("when an idempotent RPC fails once with UNAVAILABLE, then the edge retries it and the caller gets the answer", async () => {
    const key = failingKey(1);
    expect(await codeOf(client.logout({ refreshToken: key }))).toBe("OK");
    expect(identity.attempts.get(key)).toBe(2);
  });

  test("when an idempotent RPC keeps failing, then the edge gives up after two retries and the caller gets UNAVAILABLE", async () => {
    const key = failingKey(Infinity);
    expect(await codeOf(client.logout({ refreshToken: key }))).toBe("Unavailable");
    expect(identity.attempts.get(key)).toBe(3);
  });

  test("when an RPC that is not idempotent fails with UNAVAILABLE, then the edge does not retry it and the caller gets UNAVAILABLE", async () => {
    const email = failingKey(1);
    expect(await codeOf(client.login({ email, password: "correct horse battery" }))).toBe("Unavailable");
    expect(identity.attempts.get(email)).toBe(1);
  });
});
