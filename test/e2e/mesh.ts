import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  acquireMeshSlot,
  createMeshCa,
  currentTestNamespace,
  dropDatabase,
  ensureTestTopics,
  freePort,
  meshEnvironment,
  spawnService,
  TEST_KAFKA_BROKERS,
  testDatabaseName,
  type MeshCa,
  type SpawnedService,
} from "@shopmesh/platform/testing";
import { meshTlsEnv } from "@shopmesh/platform";
import { servicesByPort } from "@shopmesh/platform/topology";

/** Services that own a database, and the variable that names it (from the topology). */
const DATABASES: Record<string, string> = Object.fromEntries(servicesByPort().flatMap(([name, s]) => (s.database ? [[name, s.database.env]] : [])));

/** Each service's port variable (from the topology). */
const PORT_ENV: Record<string, string> = Object.fromEntries(servicesByPort().map(([name, s]) => [name, s.portEnv]));

export interface Mesh {
  ports: Record<string, number>;
  databases: Record<string, string>;
  env: Record<string, string>;
  processes: Map<string, SpawnedService>;
  /** With `meshTls`: the mesh CA that issued every service its certificate (tests issue more, e.g. `operator`). */
  pki?: MeshCa;
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
  options: {
    /** Preload OpenTelemetry in every process, exporting to the local Jaeger. */ telemetry?: boolean;
    /** Mutual TLS between the services: a fresh mesh CA, a certificate per service (and for `operator`, in `mesh.pki`). */
    meshTls?: boolean;
  } = {},
): Promise<Mesh> {
  // One mesh at a time per run: two starting together on two cores time each other out. The
  // caller's beforeAll allows MESH_SLOT_TIMEOUT_MS for the wait and the start.
  const releaseSlot = await acquireMeshSlot();
  try {
    return await startMeshInSlot(releaseSlot, names, extra, options);
  } catch (err) {
    await releaseSlot();
    throw err;
  }
}

async function startMeshInSlot(
  releaseSlot: () => Promise<void>,
  names: string[],
  extra: Record<string, Record<string, string>>,
  options: { telemetry?: boolean; meshTls?: boolean },
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

  const pki = options.meshTls ? createMeshCa(join(keyDir, "pki")) : undefined;
  const meshEnvOf = (name: string): Record<string, string> => {
    if (!pki) return {};
    return meshTlsEnv(pki.ensure(name, 3_600));
  };

  async function start(name: string, more: Record<string, string> = {}): Promise<SpawnedService> {
    const service = await spawnService(
      name,
      { ...env, [PORT_ENV[name]!]: String(ports[name]), ...meshEnvOf(name), ...(extra[name] ?? {}), ...more },
      { portEnv: PORT_ENV[name]!, timeoutMs: 120_000, telemetry: options.telemetry ?? false },
    );
    processes.set(name, service);
    return service;
  }

  const mesh: Mesh = {
    ...(pki ? { pki } : {}),
    ports,
    databases,
    env,
    processes,
    start,
    async stop() {
      await Promise.all([...processes.values()].map((service) => service.stop(10_000)));
      // Every service's log, for reading after a failure (CI prints the folder's path).
      const logDir = join(process.cwd(), "test-output", "e2e", basename(expect.getState().testPath ?? "mesh", ".test.ts"));
      await mkdir(logDir, { recursive: true });
      for (const [name, service] of processes) await writeFile(join(logDir, `${name}.log`), service.output.join("\n"));
      for (const database of Object.values(databases)) await dropDatabase(database);
      await rm(keyDir, { recursive: true, force: true });
      await releaseSlot();
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
