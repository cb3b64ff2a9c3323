import { z } from "zod";
import { authConfig, commonConfig, devDefault, kafkaConfig, loadConfig, mysqlConfig, redisConfig, serviceDatabase, servicePort } from "@shopmesh/platform";

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
  IDENTITY_ADMIN_PASSWORD: devDefault("admin-password"),
  /** Failed logins per account before it is locked for LOGIN_LOCKOUT_SECONDS. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(10),
  LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
};

export type IdentityConfig = ReturnType<typeof loadIdentityConfig>;

export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(identityConfigShape, env);
}
