import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type Logger, type RpcServer, meshTlsFiles } from "@shopmesh/platform";
import { openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import { createRedis, waitForRedis } from "@shopmesh/platform/redis";
import { fileURLToPath } from "node:url";
import { hashPassword } from "./domain/passwords.js";
import { createTokenIssuer, generateSigningKeyPem, loadSigningKey } from "./domain/tokens.js";
import { ADMIN_ROLE, CUSTOMER_ROLE, normalizeEmail } from "./domain/user.js";
import type { IdentityConfig } from "./config.js";
import { createIdentityServer } from "./server.js";
import { createLoginThrottle } from "./store/login-throttle.js";
import { createRefreshTokenStore } from "./store/refresh-tokens.js";
import { createUserStore } from "./store/users.js";
import { v7 as uuidv7 } from "uuid";
import { withTransaction } from "@shopmesh/platform/data";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

export interface IdentityApp {
  server: RpcServer;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

async function readOrCreateKey(path: string, allowCreate: boolean, logger: Logger): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !allowCreate) throw new Error(`JWT_SIGNING_KEY_FILE: cannot read ${path}`, { cause: err });
    const pem = await generateSigningKeyPem();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, pem, { mode: 0o600, flag: "wx" }).catch(async (writeErr: NodeJS.ErrnoException) => {
      if (writeErr.code !== "EEXIST") throw writeErr; // another replica created it first
    });
    logger.info({ path }, "created a development signing key");
    return readFile(path, "utf8");
  }
}

/** Wires the identity service from its configuration: database, Redis, Kafka relay, keys, server. */
export async function buildIdentity(config: IdentityConfig, logger: Logger): Promise<IdentityApp> {
  const pool = await openServiceDatabase(config, { database: config.IDENTITY_DATABASE, migrations: MIGRATIONS, logger });

  const redis = createRedis(config.REDIS_URL, logger, { name: "identity", keyPrefix: config.REDIS_KEY_PREFIX });
  await waitForRedis(redis);

  const publishing = await startEventPublishing(config, { service: "identity", pool, logger });
  const { relay } = publishing;

  const key = await loadSigningKey(await readOrCreateKey(config.JWT_SIGNING_KEY_FILE, config.NODE_ENV !== "production", logger));
  const issuer = createTokenIssuer({
    key,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
  });
  const users = createUserStore(pool);
  await ensureAdmin(users, pool, config.IDENTITY_ADMIN_EMAIL, config.IDENTITY_ADMIN_PASSWORD, logger);

  const server = createIdentityServer({
    meshTls: meshTlsFiles(config),
    pool,
    redis,
    users,
    refreshTokens: createRefreshTokenStore(pool, config.REFRESH_REUSE_GRACE_SECONDS * 1000),
    throttle: createLoginThrottle(redis, logger, {
      maxFailures: config.LOGIN_MAX_FAILURES,
      windowSeconds: config.LOGIN_LOCKOUT_SECONDS,
      firstDelaySeconds: config.LOGIN_FIRST_DELAY_SECONDS,
    }),
    burstFailures: config.LOGIN_BURST_FAILURES,
    failureWindowSeconds: config.LOGIN_LOCKOUT_SECONDS,
    issuer,
    logger,
    jwks: key.jwks,
    tokenIssuer: config.JWT_ISSUER,
    tokenAudience: config.JWT_AUDIENCE,
    onOutboxWrite: () => relay.nudge(),
    extraReadiness: [publishing.readiness],
  });
  return {
    server,
    closers: [
      { name: "event publishing", close: () => publishing.close() },
      { name: "redis", close: () => redis.quit() },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}

/** Creates the configured admin account when it does not exist (idempotent across replicas). */
async function ensureAdmin(
  users: ReturnType<typeof createUserStore>,
  pool: Parameters<typeof withTransaction>[0],
  email: string,
  password: string,
  logger: Logger,
) {
  const normalized = normalizeEmail(email);
  if (await users.findByEmail(normalized)) return;
  try {
    await withTransaction(pool, async (connection) =>
      users.insert(connection, {
        id: uuidv7(),
        email: normalized,
        displayName: "Administrator",
        roles: [CUSTOMER_ROLE, ADMIN_ROLE],
        passwordHash: await hashPassword(password),
        createdAt: new Date(),
      }),
    );
    logger.info("admin account created");
  } catch (err) {
    if ((err as Error).name !== "AlreadyExistsError") throw err;
  }
}
