/**
 * Helpers for component tests: real servers on port 0 against the real local
 * infrastructure (scripts/infra/up.sh), each test file in its own throwaway database.
 */
import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from "jose";
import mysql from "mysql2/promise";
import { createLogger, type Logger } from "../logger.js";
import { createJwtVerifier, type TokenVerifier } from "../rpc/auth.js";
import { createGrpcClient, type GrpcClient } from "../rpc/client.js";
import { LOCAL_HOST, localAddress, topology } from "../topology.js";

export const TEST_MYSQL = {
  host: process.env["MYSQL_HOST"] ?? LOCAL_HOST,
  port: Number(process.env["MYSQL_PORT"] ?? topology.infrastructure.mysql.port),
  user: process.env["MYSQL_USER"] ?? "shopmesh",
  password: process.env["MYSQL_PASSWORD"] ?? "shopmesh",
};
export const TEST_REDIS_URL = process.env["REDIS_URL"] ?? `redis://${localAddress("redis")}`;
export const TEST_KAFKA_BROKERS = process.env["KAFKA_BROKERS"] ?? localAddress("kafka");
export const TEST_OPENSEARCH_URL = process.env["OPENSEARCH_URL"] ?? `http://${localAddress("opensearch")}`;

/** A database name no other test file uses: `shopmesh_<service>_t<hex>`. */
export function testDatabaseName(service: string): string {
  return `shopmesh_${service}_t${randomBytes(4).toString("hex")}`;
}

export async function dropDatabase(name: string): Promise<void> {
  if (!/^shopmesh_[a-z0-9_]+_t[0-9a-f]{8}$/.test(name)) throw new Error(`refusing to drop ${name}`);
  const connection = await mysql.createConnection(TEST_MYSQL);
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
}

/** Logs only warnings and worse unless TEST_LOG_LEVEL says otherwise. */
export function testLogger(service: string): Logger {
  return createLogger({ service, level: process.env["TEST_LOG_LEVEL"] ?? "error" });
}

/** A Connect client over HTTP/1.1, the way Envoy and curl reach a service. */
export function connectClient<S extends DescService>(service: S, port: number, options: { token?: string; json?: boolean } = {}): Client<S> {
  const transport = createConnectTransport({
    baseUrl: `http://127.0.0.1:${port}`,
    httpVersion: "1.1",
    useBinaryFormat: !options.json,
    interceptors: options.token
      ? [
          (next) => (request) => {
            request.header.set("authorization", `Bearer ${options.token}`);
            return next(request);
          },
        ]
      : [],
  });
  return createClient(service, transport);
}

/** A grpc-js stub, the way other services reach a service. */
export function grpcClient<S extends DescService>(service: S, port: number, logger: Logger = testLogger("test-client")): GrpcClient<S> {
  return createGrpcClient(service, { address: `127.0.0.1:${port}`, logger, defaultTimeoutMs: 5_000 });
}

/**
 * A signing key that stands in for identity in other services' tests: it issues tokens the
 * way identity does (ES256, same claims) and gives the verifier that checks them.
 */
export async function createTestTokens(options: { issuer?: string; audience?: string } = {}) {
  const issuer = options.issuer ?? "shopmesh-identity";
  const audience = options.audience ?? "shopmesh";
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid: "test", alg: "ES256", use: "sig" }] };
  return {
    jwks,
    verifier: createJwtVerifier({ issuer, audience, jwks }) as TokenVerifier,
    async token(userId: string, roles: string[] = ["customer"], expiresInSeconds = 300): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ roles })
        .setProtectedHeader({ alg: "ES256", kid: "test" })
        .setSubject(userId)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresInSeconds)
        .sign(privateKey);
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "condition"}`, { cause: lastError });
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/**
 * Resolves once the consumer that owns `database` has processed the event `eventId` (its
 * processed_events row is committed). Publish such a marker after the events under test, with
 * their key: it lands behind them on their partition, so once it is processed so are they, a
 * late duplicate included. Only then can a test say something happened exactly once.
 */
export async function eventProcessed(database: string, eventId: string, options: { timeoutMs?: number } = {}): Promise<void> {
  await eventually(
    async () => {
      const connection = await mysql.createConnection({ ...TEST_MYSQL, database });
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT 1 FROM processed_events WHERE event_id = ? LIMIT 1", [eventId]);
        return rows.length > 0 ? true : undefined;
      } finally {
        await connection.end();
      }
    },
    { timeoutMs: options.timeoutMs, what: `event ${eventId} processed by the consumer of ${database}` },
  );
}
export * from "./spawn.js";
export * from "./mesh-env.js";
export * from "./namespace.js";
export * from "./event-publisher.js";
export * from "./probes.js";
export * from "./stub-server.js";
export * from "./tcp-proxy.js";
export * from "./mesh-slot.js";
export { createProxy, toxiproxyAvailable, type Proxy } from "./toxiproxy.js";
export * from "./jaeger.js";
export * from "./in-memory.js";

/** Awaits a call that must fail with `code`, and returns its error for further checks. */
export async function expectCode(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  let failure: ConnectError | undefined;
  try {
    await call;
  } catch (err) {
    failure = ConnectError.from(err);
  }
  if (!failure) throw new Error(`expected ${Code[code]}, but the call succeeded`);
  if (failure.code !== code) throw new Error(`expected ${Code[code]}, got ${Code[failure.code]}: ${failure.rawMessage}`);
  return failure;
}
export * from "../mesh-pki.js";
