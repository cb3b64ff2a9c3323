import { z } from "zod";
import {
  authConfig,
  commonConfig,
  devDefault,
  devSecret,
  kafkaConfig,
  loadConfig,
  mysqlConfig,
  redisConfig,
  serviceDatabase,
  servicePort,
} from "@shopmesh/platform";

const { JWKS_URL: _unused, ...tokenConfig } = authConfig;

/** Environment of the identity service; every variable is listed in its README section. */
export const identityConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...redisConfig,
  ...kafkaConfig,
  ...tokenConfig,
  IDENTITY_PORT: servicePort("identity"),
  IDENTITY_DATABASE: serviceDatabase("identity"),
  /** PKCS#8 PEM of the ES256 signing key. Created on first start outside production. */
  JWT_SIGNING_KEY_FILE: devDefault(".shopmesh/keys/jwt-signing-key.pem"),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  /** A rotated refresh token still works this long (a lost answer retried); later use revokes the session. */
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(3600)
    .max(90 * 86400)
    .default(30 * 86400),
  /** The first admin account, created at start when missing. */
  IDENTITY_ADMIN_EMAIL: devDefault("admin@shopmesh.local"),
  IDENTITY_ADMIN_PASSWORD: devSecret("admin-password"),
  /** Failed logins to one account from one address before each further attempt from there must wait. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(10),
  /** How long failures are remembered, and the longest wait. */
  LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
  /** The first wait past LOGIN_MAX_FAILURES; it doubles with each further failure. */
  LOGIN_FIRST_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  /** Failed logins to one account from all addresses within the window that email its owner. */
  LOGIN_BURST_FAILURES: z.coerce.number().int().min(2).max(10_000).default(20),
};

export type IdentityConfig = ReturnType<typeof loadIdentityConfig>;

export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(identityConfigShape, env);
}
