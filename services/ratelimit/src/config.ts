import { fileURLToPath } from "node:url";
import { z } from "zod";
import { commonConfig, loadConfig, redisConfig, servicePort } from "@shopmesh/platform";

/** The limits shipped with the service (services/ratelimit/limits.json). */
export const BUNDLED_LIMITS_FILE = fileURLToPath(new URL("../limits.json", import.meta.url));

/** Environment of the ratelimit service; documented in docs/edge.md. */
export const ratelimitConfigShape = {
  ...commonConfig,
  ...redisConfig,
  RATELIMIT_PORT: servicePort("ratelimit"),
  /** JSON file with one limit per rate-limit class (validated at start). */
  RATELIMIT_LIMITS_FILE: z.string().min(1).default(BUNDLED_LIMITS_FILE),
  /** When Redis cannot decide: `allow` answers OK (fail open), `deny` answers OVER_LIMIT. */
  RATELIMIT_FAILURE_MODE: z.enum(["allow", "deny"]).default("allow"),
};

export type RatelimitConfig = ReturnType<typeof loadRatelimitConfig>;

export function loadRatelimitConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(ratelimitConfigShape, env);
}
