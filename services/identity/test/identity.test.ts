import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRemoteJWKSet, jwtVerify } from "jose";
import mysql, { type RowDataPacket } from "mysql2/promise";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { UserRegisteredSchema } from "@shopmesh/gen/shopmesh/events/v1/identity_events_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { createMysqlPool, decodeEvent, headerString, withTransaction } from "@shopmesh/platform/data";
import {
  connectClient,
  dropDatabase,
  eventually,
  grpcClient,
  TEST_MYSQL,
  testDatabaseName,
  testGroupId,
  testKafka,
  testLogger,
  expectCode,
} from "@shopmesh/platform/testing";
import { buildIdentity, type IdentityApp } from "../src/app.js";
import { hashRefreshToken } from "../src/domain/tokens.js";
import { createRefreshTokenStore } from "../src/store/refresh-tokens.js";
import { loadIdentityConfig } from "../src/config.js";

const database = testDatabaseName("identity");
const adminEmail = "root-admin@shopmesh.test";
const adminPassword = "admin-password-for-tests";
let keyDir: string;
let app: IdentityApp;
let port: number;

const buildRegistration = (overrides: Partial<{ email: string; password: string; displayName: string }> = {}) => ({
  email: `user-${Math.random().toString(16).slice(2)}@example.com`,
  password: "correct horse battery",
  displayName: "Jane Shopper",
  ...overrides,
});

async function countUsers(email: string): Promise<number> {
  const connection = await mysql.createConnection({ ...TEST_MYSQL, database });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM users WHERE email = ?", [email]);
    return Number(rows[0]!["n"]);
  } finally {
    await connection.end();
  }
}

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), "identity-test-"));
  const config = loadIdentityConfig({
    ...process.env,
    NODE_ENV: "test",
    IDENTITY_DATABASE: database,
    JWT_SIGNING_KEY_FILE: join(keyDir, "key.pem"),
    IDENTITY_ADMIN_EMAIL: adminEmail,
    IDENTITY_ADMIN_PASSWORD: adminPassword,
    LOGIN_MAX_FAILURES: "3",
    LOGIN_BURST_FAILURES: "5",
    REFRESH_REUSE_GRACE_SECONDS: "0",
  });
  app = await buildIdentity(config, testLogger("identity"));
  port = await app.server.listen(0, "127.0.0.1");
});

afterAll(async () => {
  await app.server.shutdown(1_000);
  for (const closer of app.closers) await closer.close();
  await dropDatabase(database);
  await rm(keyDir, { recursive: true, force: true });
});

/** A client whose requests the edge recorded as coming from `address`. */
const fromAddress = (address: string) =>
  createClient(
    IdentityService,
    createConnectTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      httpVersion: "1.1",
      interceptors: [
        (next) => (request) => {
          request.header.set("x-envoy-external-address", address);
          return next(request);
        },
      ],
    }),
  );

/** SignInFailuresDetected rows identity's outbox holds for a user. */
async function signInFailureEvents(userId: string): Promise<number> {
  const connection = await mysql.createConnection({ ...TEST_MYSQL, database });
  try {
    const [rows] = await connection.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM outbox WHERE event_type = ? AND event_key = ?", [
      "shopmesh.events.v1.SignInFailuresDetected",
      userId,
    ]);
    return Number(rows[0]!["n"]);
  } finally {
    await connection.end();
  }
}

describe("identity over Connect (HTTP/1.1, as through the edge)", () => {
  const client = () => connectClient(IdentityService, port);

  test("a new customer registers and gets a token pair whose access token verifies against the published JWKS", async () => {
    const registration = buildRegistration({ email: "Jane.Doe@Example.com" });
    const response = await client().register(registration);

    expect(response.user?.email).toBe("jane.doe@example.com");
    expect(response.user?.roles).toEqual(["customer"]);
    expect(response.tokens?.tokenType).toBe("Bearer");
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(response.tokens!.accessToken, jwks, { issuer: "shopmesh-identity", audience: "shopmesh" });
    expect(payload.sub).toBe(response.user?.id);
    expect(payload["roles"]).toEqual(["customer"]);
  });

  test("when the email is malformed and the password too short, then INVALID_ARGUMENT lists both fields and no account is created", async () => {
    const error = await expectCode(client().register(buildRegistration({ email: "not-an-email", password: "short" })), Code.InvalidArgument);
    expect(error.rawMessage).toContain("email");
    expect(error.rawMessage).toContain("password");
    expect(error.details.length).toBe(1);
    expect(await countUsers("not-an-email")).toBe(0);
  });

  test("when the email is already taken (in any letter case), then ALREADY_EXISTS", async () => {
    const registration = buildRegistration();
    await client().register(registration);
    await expectCode(client().register({ ...registration, email: registration.email.toUpperCase() }), Code.AlreadyExists);
    expect(await countUsers(registration.email)).toBe(1);
  });

  test("when the password is wrong or the email unknown, then UNAUTHENTICATED with the same message", async () => {
    const registration = buildRegistration();
    await client().register(registration);
    const wrongPassword = await expectCode(client().login({ email: registration.email, password: "wrong password!" }), Code.Unauthenticated);
    const unknownEmail = await expectCode(client().login({ email: "nobody@example.com", password: "wrong password!" }), Code.Unauthenticated);
    expect(wrongPassword.rawMessage).toBe(unknownEmail.rawMessage);
    expect(wrongPassword.rawMessage).not.toMatch(/password is wrong|no such user|unknown/i);
  });

  test("a stranger's failed sign-ins slow down only the stranger's address: the owner signs in from elsewhere", async () => {
    const registration = buildRegistration();
    const { user } = await client().register(registration);
    const stranger = fromAddress("203.0.113.7");
    for (let attempt = 0; attempt < 3; attempt++) {
      await expectCode(stranger.login({ email: registration.email, password: "wrong password!" }), Code.Unauthenticated);
    }
    // From there even the right password must wait, and the answer says for how long.
    const waiting = await expectCode(stranger.login({ email: registration.email, password: registration.password }), Code.ResourceExhausted);
    expect(waiting.rawMessage).toMatch(/from this address; try again in \d+ s/);
    const { user: signedIn } = await fromAddress("198.51.100.20").login({ email: registration.email, password: registration.password });
    expect(signedIn?.id).toBe(user!.id);
    // Three failures are below the burst threshold: the owner is not bothered yet.
    expect(await signInFailureEvents(user!.id)).toBe(0);
  });

  test("failures from many addresses email the owner once per window (SignInFailuresDetected), and no address is locked for the owner", async () => {
    const registration = buildRegistration();
    const { user } = await client().register(registration);
    for (let attempt = 0; attempt < 7; attempt++) {
      await expectCode(fromAddress(`192.0.2.${attempt + 1}`).login({ email: registration.email, password: "wrong password!" }), Code.Unauthenticated);
    }
    expect(await signInFailureEvents(user!.id)).toBe(1);
    await fromAddress("198.51.100.21").login({ email: registration.email, password: registration.password });
  });

  test("refresh rotates the token; presenting the rotated token again revokes the whole session", async () => {
    const registration = buildRegistration();
    await client().register(registration);
    const { tokens: first } = await client().login({ email: registration.email, password: registration.password });
    const { tokens: second } = await client().refresh({ refreshToken: first!.refreshToken });
    expect(second!.refreshToken).not.toBe(first!.refreshToken);

    await expectCode(client().refresh({ refreshToken: first!.refreshToken }), Code.Unauthenticated);
    // The thief's replay also killed the legitimate holder's newer token.
    await expectCode(client().refresh({ refreshToken: second!.refreshToken }), Code.Unauthenticated);
  });

  test("logout ends the session; logging out twice is fine", async () => {
    const { tokens } = await client().register(buildRegistration());
    await client().logout({ refreshToken: tokens!.refreshToken });
    await client().logout({ refreshToken: tokens!.refreshToken });
    await expectCode(client().refresh({ refreshToken: tokens!.refreshToken }), Code.Unauthenticated);
  });

  test("GetMe needs a valid access token and returns the caller", async () => {
    const { user, tokens } = await client().register(buildRegistration());
    await expectCode(client().getMe({}), Code.Unauthenticated);
    await expectCode(connectClient(IdentityService, port, { token: `${tokens!.accessToken}x` }).getMe({}), Code.Unauthenticated);
    const me = await connectClient(IdentityService, port, { token: tokens!.accessToken }).getMe({});
    expect(me.user?.id).toBe(user?.id);
  });

  test("GetUser is for admins: a customer gets PERMISSION_DENIED, the seeded admin gets the user", async () => {
    const { user, tokens } = await client().register(buildRegistration());
    await expectCode(connectClient(IdentityService, port, { token: tokens!.accessToken }).getUser({ userId: user!.id }), Code.PermissionDenied);
    const admin = await client().login({ email: adminEmail, password: adminPassword });
    expect(admin.user?.roles).toContain("admin");
    const found = await connectClient(IdentityService, port, { token: admin.tokens!.accessToken }).getUser({ userId: user!.id });
    expect(found.user?.email).toBe(user?.email);
  });

  test("an unexpected body gets a clean error, never a stack trace", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/shopmesh.identity.v1.IdentityService/Register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    const body = await response.text();
    expect(response.status).toBe(400);
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});

describe("identity over gRPC (grpc-js, as internal callers and grpcurl reach it)", () => {
  test("the same implementation answers gRPC on the same port", async () => {
    const stub = grpcClient(IdentityService, port);
    try {
      const registration = buildRegistration();
      await stub.register(registration);
      const login = await stub.login({ email: registration.email, password: registration.password });
      expect(login.user?.email).toBe(registration.email);
      await expect(stub.login({ email: registration.email, password: "wrong password!" })).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(stub.register({ email: "x", password: "y", displayName: "" })).rejects.toMatchObject({ code: Code.InvalidArgument });
    } finally {
      stub.close();
    }
  });
});

describe("UserRegistered through the outbox", () => {
  test("registering publishes one UserRegistered to Kafka with CloudEvents headers", async () => {
    const { user } = await connectClient(IdentityService, port).register(buildRegistration());
    const consumer = testKafka("identity-test").consumer({ groupId: testGroupId("identity-test") });
    const seen: Array<{ headers: Record<string, string | undefined>; userId: string }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.identity, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== user!.id) return;
          seen.push({
            headers: {
              ce_id: headerString(message.headers, "ce_id"),
              ce_type: headerString(message.headers, "ce_type"),
              ce_source: headerString(message.headers, "ce_source"),
              content_type: headerString(message.headers, "content-type"),
            },
            userId: decodeEvent(UserRegisteredSchema, message.value!).userId,
          });
        },
      });
      await eventually(async () => (seen.length > 0 ? true : undefined), { timeoutMs: 20_000, what: "UserRegistered on Kafka" });
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.userId).toBe(user!.id);
    expect(seen[0]!.headers).toMatchObject({
      ce_type: "shopmesh.events.v1.UserRegistered",
      ce_source: "/shopmesh/identity",
      content_type: "application/protobuf",
    });
  });
});

describe("refresh token reuse grace", () => {
  test("a rotated token presented again within the grace period is a lost-answer retry; after it, reuse revokes the session", async () => {
    const { user } = await connectClient(IdentityService, port).register(buildRegistration());
    const pool = await createMysqlPool({ ...TEST_MYSQL, database, poolSize: 2 });
    try {
      const store = createRefreshTokenStore(pool, 10_000);
      const expires = new Date(Date.now() + 3_600_000);
      await withTransaction(pool, (connection) => store.startFamily(connection, { userId: user!.id, tokenHash: hashRefreshToken("t1"), expiresAt: expires }));
      const rotatedAt = new Date();
      expect((await store.rotate(hashRefreshToken("t1"), hashRefreshToken("t2"), expires, rotatedAt)).kind).toBe("rotated");
      // The page unloaded before it stored t2 and tries t1 again five seconds later.
      expect((await store.rotate(hashRefreshToken("t1"), hashRefreshToken("t3"), expires, new Date(rotatedAt.getTime() + 5_000))).kind).toBe("rotated");
      // A minute later the same old token is a replay: the whole session goes.
      expect((await store.rotate(hashRefreshToken("t1"), hashRefreshToken("t4"), expires, new Date(rotatedAt.getTime() + 60_000))).kind).toBe("reused");
      expect((await store.rotate(hashRefreshToken("t3"), hashRefreshToken("t5"), expires, new Date(rotatedAt.getTime() + 61_000))).kind).toBe("invalid");
    } finally {
      await pool.end();
    }
  });

  test("the grace window cannot mint a parallel session: a retry replaces the lost successor, and an old token after the successor was used is reuse", async () => {
    const { user } = await connectClient(IdentityService, port).register(buildRegistration());
    const pool = await createMysqlPool({ ...TEST_MYSQL, database, poolSize: 2 });
    try {
      const store = createRefreshTokenStore(pool, 10_000);
      const expires = new Date(Date.now() + 3_600_000);
      await withTransaction(pool, (connection) => store.startFamily(connection, { userId: user!.id, tokenHash: hashRefreshToken("p1"), expiresAt: expires }));
      const at = (ms: number) => new Date(Date.now() + ms);
      expect((await store.rotate(hashRefreshToken("p1"), hashRefreshToken("p2"), expires, at(0))).kind).toBe("rotated");
      // Someone holding p1 retries within the grace: p3 replaces p2, so p2 is no longer a way in.
      expect((await store.rotate(hashRefreshToken("p1"), hashRefreshToken("p3"), expires, at(1_000))).kind).toBe("rotated");
      expect((await store.rotate(hashRefreshToken("p2"), hashRefreshToken("p4"), expires, at(2_000))).kind).toBe("invalid");
      // p3 is used; p1 shown again, still inside the grace, is now reuse: the session ends, p5 with it.
      expect((await store.rotate(hashRefreshToken("p3"), hashRefreshToken("p5"), expires, at(3_000))).kind).toBe("rotated");
      expect((await store.rotate(hashRefreshToken("p1"), hashRefreshToken("p6"), expires, at(4_000))).kind).toBe("reused");
      expect((await store.rotate(hashRefreshToken("p5"), hashRefreshToken("p7"), expires, at(5_000))).kind).toBe("invalid");
    } finally {
      await pool.end();
    }
  });
});
