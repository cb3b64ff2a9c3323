import { z } from "zod";
import { localAddress, resolveEnv, serviceSpec, topology, type InfraName, type ServiceName } from "./topology.js";

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

/** A port variable of the infrastructure, defaulting to its port in the topology. */
export const infraPort = (name: InfraName) => port(topology.infrastructure[name].port);

/** The port variable of a service, defaulting to its port in the topology. */
export const servicePort = (name: ServiceName) => port(topology.services[name].port);

/** `<NAME>_ADDR` of a service this one calls: locally, its default port on loopback. */
export const serviceAddress = (name: ServiceName) => devDefault(localAddress(name));

/** A variable the topology sets for a service (`env`), defaulting locally to its value on loopback. */
export function topologyEnv(name: ServiceName, variable: string) {
  const value = resolveEnv(name, localAddress)[variable];
  if (value === undefined) throw new Error(`the topology sets no ${variable} for ${name}`);
  return devDefault(value);
}

/** The variable naming a service's own MySQL schema, defaulting to the topology's name for it. */
export function serviceDatabase(name: ServiceName) {
  const database = serviceSpec(name).database;
  if (!database) throw new Error(`${name} owns no database in the topology`);
  return z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default(database.name);
}

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
  MYSQL_PORT: infraPort("mysql"),
  MYSQL_USER: devDefault("shopmesh"),
  MYSQL_PASSWORD: devDefault("shopmesh"),
  MYSQL_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
};

export const redisConfig = {
  REDIS_URL: devDefault(`redis://${localAddress("redis")}`),
  /** Namespace for every key this service writes (tests run beside a dev stack); empty in production. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._:-]*$/)
    .default(""),
};

export const opensearchConfig = {
  OPENSEARCH_URL: devDefault(`http://${localAddress("opensearch")}`),
  /** Put before every index and alias name this service uses (tests run beside a dev stack); empty in production. */
  SEARCH_INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9._-]*$/)
    .default(""),
};

export const kafkaConfig = {
  KAFKA_BROKERS: devDefault(localAddress("kafka")),
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
  JWKS_URL: devDefault(`http://${localAddress("identity")}/.well-known/jwks.json`),
};
