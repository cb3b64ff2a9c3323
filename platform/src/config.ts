import { readFileSync } from "node:fs";
import { z } from "zod";
import type { MeshTlsFiles } from "./rpc/mesh-tls.js";
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

/**
 * Every secret value the repository ships for local development: the dev defaults of the
 * `devSecret` variables, and what the k8s dev overlay and older compose files set. A
 * production process refuses each of them, wherever it came from.
 */
export const DEVELOPMENT_SECRETS: ReadonlySet<string> = new Set(["shopmesh", "root-dev", "admin-password", "whsec_dev_shopmesh"]);

/**
 * A secret with a default for local development only. In production it must be set, and to
 * a value of its own: a known development value is refused. `<NAME>_FILE` names a file to read
 * it from instead (compose and Kubernetes mount secrets as files).
 */
export function devSecret(value: string) {
  return z.string().min(1).optional().default(value).describe(`dev-secret:${value}`);
}

/** Why a secret may not be used in production, or undefined when it may. */
function refusedInProduction(value: string | undefined, devValue: string): string | undefined {
  if (value === undefined || value === "") return "required in production (no local default is used)";
  if (value === devValue || DEVELOPMENT_SECRETS.has(value)) return "a development value the repository ships; production needs a secret of its own";
  return undefined;
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
  const input: Record<string, string | undefined> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const description = (schema as z.ZodType).description ?? "";
    let value = env[name] === "" ? undefined : env[name];
    const file = env[`${name}_FILE`];
    if (description.startsWith("dev-secret:") && file) {
      try {
        value = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (err) {
        problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      }
    }
    input[name] = value;
    if (!isProduction(env)) continue;
    if (description.startsWith("dev-default:") && value === undefined) problems.push(`${name}: required in production (no local default is used)`);
    if (description.startsWith("dev-secret:")) {
      const problem = refusedInProduction(value, description.slice("dev-secret:".length));
      if (problem) problems.push(`${name}: ${problem}`);
    }
  }
  // A password inside a connection URL is a secret too.
  if (isProduction(env) && input["REDIS_URL"]) {
    const password = URL.canParse(input["REDIS_URL"]) ? decodeURIComponent(new URL(input["REDIS_URL"]).password) : "";
    if (DEVELOPMENT_SECRETS.has(password)) problems.push("REDIS_URL: its password is a development value the repository ships");
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

/** Mutual TLS between services: the mesh CA, and this process's certificate and key (PEM). All three, or none. */
export const meshTlsConfig = {
  MESH_CA_FILE: z.string().min(1).optional(),
  MESH_CERT_FILE: z.string().min(1).optional(),
  MESH_KEY_FILE: z.string().min(1).optional(),
  /** How often the certificate files are read again, so a rotated certificate is used without a restart. */
  MESH_CERT_REFRESH_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
};

/** Variables every service reads. Service configs spread this and add their own. */
export const commonConfig = {
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: devDefault("127.0.0.1"),
  /** How long SIGTERM waits for in-flight RPCs before cancelling them. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  ...meshTlsConfig,
};

/** The mesh TLS files a config names, or undefined when it names none (plaintext HTTP/2, as tests run). */
export function meshTlsFiles(config: {
  MESH_CA_FILE?: string | undefined;
  MESH_CERT_FILE?: string | undefined;
  MESH_KEY_FILE?: string | undefined;
  MESH_CERT_REFRESH_MS?: number;
}): MeshTlsFiles | undefined {
  const { MESH_CA_FILE: caFile, MESH_CERT_FILE: certFile, MESH_KEY_FILE: keyFile } = config;
  if (!caFile && !certFile && !keyFile) return undefined;
  if (!caFile || !certFile || !keyFile) throw new ConfigError(["MESH_CA_FILE, MESH_CERT_FILE, MESH_KEY_FILE: set all three for mutual TLS, or none"]);
  return { caFile, certFile, keyFile, refreshIntervalMs: config.MESH_CERT_REFRESH_MS ?? 60_000 };
}

export const mysqlConfig = {
  MYSQL_HOST: devDefault("127.0.0.1"),
  MYSQL_PORT: infraPort("mysql"),
  MYSQL_USER: devDefault("shopmesh"),
  MYSQL_PASSWORD: devSecret("shopmesh"),
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
