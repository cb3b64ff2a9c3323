import { z } from "zod";

/** Thrown when the environment does not describe a runnable service; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

const isProduction = (env: NodeJS.ProcessEnv) => env["NODE_ENV"] === "production";

/**
 * A string variable with a default for local development only. In production a missing
 * variable is an error rather than a silent fallback to loopback.
 */
export function devDefault(value: string) {
  return z.string().min(1).optional().default(value).describe(`dev-default:${value}`);
}

export const port = (dev: number) => z.coerce.number().int().min(0).max(65535).default(dev);

/**
 * Parses `env` against a schema whose keys are variable names. Every problem is reported at
 * once, each naming its variable. Dev defaults are refused in production.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const problems: string[] = [];
  if (isProduction(env)) {
    for (const [name, schema] of Object.entries(shape)) {
      const description = (schema as z.ZodType).description ?? "";
      if (description.startsWith("dev-default:") && (env[name] === undefined || env[name] === "")) {
        problems.push(`${name}: required in production (no local default is used)`);
      }
    }
  }
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const value = env[name];
    input[name] = value === "" ? undefined : value;
  }
  const parsed = z.object(shape).safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join(".") || "(root)"}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(problems);
  }
  return parsed.data;
}

/** Variables every service reads. Service configs spread this and add their own. */
export const commonConfig = {
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: devDefault("127.0.0.1"),
  /** How long SIGTERM waits for in-flight RPCs before cancelling them. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
};

export const mysqlConfig = {
  MYSQL_HOST: devDefault("127.0.0.1"),
  MYSQL_PORT: port(3306),
  MYSQL_USER: devDefault("shopmesh"),
  MYSQL_PASSWORD: devDefault("shopmesh"),
  MYSQL_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
};

export const redisConfig = {
  REDIS_URL: devDefault("redis://127.0.0.1:6379"),
  /** Namespace for every key this service writes (tests run beside a dev stack); empty in production. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._:-]*$/)
    .default(""),
};

export const kafkaConfig = {
  KAFKA_BROKERS: devDefault("127.0.0.1:9092"),
  /** Where a new consumer group starts; tests use "end" with a per-run group suffix. */
  KAFKA_CONSUMER_START: z.enum(["beginning", "end"]).default("beginning"),
  /** Appended to every consumer group name (`shopmesh.<service><suffix>`); empty in production. */
  KAFKA_GROUP_SUFFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/)
    .default(""),
  /**
   * "false" keeps committed events in the outbox instead of publishing them: an operator
   * switch for broker maintenance, and how tests stage a crash between commit and publish.
   */
  OUTBOX_RELAY_ENABLED: z.enum(["true", "false"]).default("true"),
  /** Namespace for every topic name (see createKafka); empty in production. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/)
    .default(""),
};

/** A service's consumer group: `shopmesh.<service>` plus KAFKA_GROUP_SUFFIX (a test's namespace; empty in production). */
export function consumerGroup(service: string, settings: { KAFKA_GROUP_SUFFIX: string }): string {
  return `shopmesh.${service}${settings.KAFKA_GROUP_SUFFIX}`;
}

/** Where services find identity's public keys to verify access tokens. */
export const authConfig = {
  JWT_ISSUER: devDefault("shopmesh-identity"),
  JWT_AUDIENCE: devDefault("shopmesh"),
  JWKS_URL: devDefault("http://127.0.0.1:50051/.well-known/jwks.json"),
};
