import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  currentTestNamespace,
  dropDatabase,
  ensureTestTopics,
  freePort,
  meshEnvironment,
  spawnService,
  TEST_KAFKA_BROKERS,
  testDatabaseName,
  type SpawnedService,
} from "@shopmesh/platform/testing";

/** Services that own a database, and the variable that names it. */
const DATABASES: Record<string, string> = {
  identity: "IDENTITY_DATABASE",
  catalog: "CATALOG_DATABASE",
  inventory: "INVENTORY_DATABASE",
  order: "ORDER_DATABASE",
  payment: "PAYMENT_DATABASE",
  delivery: "DELIVERY_DATABASE",
  notification: "NOTIFICATION_DATABASE",
};

const PORT_ENV: Record<string, string> = {
  identity: "IDENTITY_PORT",
  catalog: "CATALOG_PORT",
  cart: "CART_PORT",
  order: "ORDER_PORT",
  payment: "PAYMENT_PORT",
  inventory: "INVENTORY_PORT",
  delivery: "DELIVERY_PORT",
  notification: "NOTIFICATION_PORT",
  "payment-provider-sim": "PAYMENT_SIM_PORT",
  ratelimit: "RATELIMIT_PORT",
};

export interface Mesh {
  ports: Record<string, number>;
  databases: Record<string, string>;
  env: Record<string, string>;
  processes: Map<string, SpawnedService>;
  /** Starts (or restarts) one service with the mesh's environment plus `extra`. */
  start(name: string, extra?: Record<string, string>): Promise<SpawnedService>;
  stop(): Promise<void>;
}

/**
 * The whole checkout mesh as real processes from their builds, on free ports, each service
 * with a throwaway database and consumer groups of its own that start at the current end
 * of their topics (so nothing from earlier runs is replayed into this one).
 */
export async function startMesh(
  names: string[],
  extra: Record<string, Record<string, string>> = {},
  options: { /** Preload OpenTelemetry in every process, exporting to the local Jaeger. */ telemetry?: boolean } = {},
): Promise<Mesh> {
  const run = randomBytes(4).toString("hex");
  const ports: Record<string, number> = {};
  for (const name of names) ports[name] = await freePort();
  const databases: Record<string, string> = {};
  for (const name of names) if (DATABASES[name]) databases[name] = testDatabaseName(name);
  const keyDir = await mkdtemp(join(tmpdir(), "mesh-keys-"));
  // The test file's own topics (its namespace): no other test's or dev stack's consumers see
  // this mesh's events, and vice versa. The run's teardown deletes them.
  const { topicPrefix } = currentTestNamespace();
  await ensureTestTopics(TEST_KAFKA_BROKERS, topicPrefix);
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    KAFKA_TOPIC_PREFIX: topicPrefix,
    ...meshEnvironment({ run, label: "e2e", ports, signingKeyFile: join(keyDir, "jwt.pem") }),
  };
  for (const [name, variable] of Object.entries(DATABASES)) if (databases[name]) env[variable] = databases[name]!;
  const processes = new Map<string, SpawnedService>();

  async function start(name: string, more: Record<string, string> = {}): Promise<SpawnedService> {
    const service = await spawnService(
      name,
      { ...env, [PORT_ENV[name]!]: String(ports[name]), ...(extra[name] ?? {}), ...more },
      { portEnv: PORT_ENV[name]!, timeoutMs: 60_000, telemetry: options.telemetry ?? false },
    );
    processes.set(name, service);
    return service;
  }

  const mesh: Mesh = {
    ports,
    databases,
    env,
    processes,
    start,
    async stop() {
      await Promise.all([...processes.values()].map((service) => service.stop(10_000)));
      // Every service's log, for reading after a failure (CI prints the folder's path).
      const logDir = join(process.cwd(), "test-output", "e2e");
      await mkdir(logDir, { recursive: true });
      for (const [name, service] of processes) await writeFile(join(logDir, `${name}.log`), service.output.join("\n"));
      for (const database of Object.values(databases)) await dropDatabase(database);
      await rm(keyDir, { recursive: true, force: true });
    },
  };
  try {
    // identity first: everyone else verifies tokens against its keys.
    await start("identity");
    // allSettled: on a failure, stop() must see every process that did start.
    const started = await Promise.allSettled(names.filter((name) => name !== "identity").map((name) => start(name)));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) throw failed.reason;
  } catch (err) {
    await mesh.stop().catch(() => undefined);
    throw err;
  }
  return mesh;
}
