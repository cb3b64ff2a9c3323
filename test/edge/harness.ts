// Shared set-up for the edge tests: real services (spawnService), a config rendered by the
// generator for their ports, and a real Envoy in front of them.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { eventually, type SpawnedService } from "@shopmesh/platform/testing";
import {
  describeService,
  loadContractServices,
  renderEnvoyConfig,
  toYaml,
  upstreamPortVariables,
  type EnvoyConfigOptions,
  type Upstream,
} from "../../tools/envoy-gen/src/index.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TOOLS_BIN = join(process.env["SHOPMESH_TOOLS"] ?? join(homedir(), ".cache", "shopmesh", "tools"), "bin");
export const ENVOY = join(TOOLS_BIN, "envoy");
export const GRPCURL = join(TOOLS_BIN, "grpcurl");

/** A running Envoy started from a rendered config; `stop()` ends it and removes its files. */
export interface RunningEnvoy {
  port: number;
  adminPort: number;
  baseUrl: string;
  output: string[];
  stop(): Promise<void>;
}

/** Renders the config with ports 0 and the given upstreams (unlisted ones point at a closed port), and starts Envoy. */
export async function startEdge(upstreams: Record<string, Upstream>, options: Partial<EnvoyConfigOptions> = {}): Promise<RunningEnvoy> {
  const services = (await loadContractServices()).map(describeService);
  const closed = { host: "127.0.0.1", port: 1 };
  const allUpstreams = Object.fromEntries(Object.keys(upstreamPortVariables(services)).map((name) => [name, upstreams[name] ?? closed]));
  const config = renderEnvoyConfig({
    services,
    upstreams: { ...allUpstreams, otel: upstreams["otel"] ?? { host: "127.0.0.1", port: 4317 } },
    edgePort: 0,
    adminPort: 0,
    storefrontOrigins: ["http://localhost:5173"],
    healthCheckIntervalSeconds: 2,
    ...options,
  });
  return runEnvoy(toYaml(config));
}

async function runEnvoy(yaml: string): Promise<RunningEnvoy> {
  const dir = await mkdtemp(join(tmpdir(), "shopmesh-edge-"));
  const configFile = join(dir, "envoy.yaml");
  const adminFile = join(dir, "admin-address");
  await writeFile(configFile, yaml);
  const child = spawn(
    ENVOY,
    ["-c", configFile, "--log-level", "warn", "--use-dynamic-base-id", "--concurrency", "1", "--admin-address-path", adminFile, "--drain-time-s", "0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", (line) => output.push(line));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const admin = await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`envoy exited with ${child.exitCode}:\n${output.slice(-20).join("\n")}`);
        const address = (await readFile(adminFile, "utf8").catch(() => "")).trim();
        if (!address) return undefined;
        const ready = await fetch(`http://${address}/ready`);
        return ready.status === 200 ? address : undefined;
      },
      { timeoutMs: 20_000, what: "envoy admin /ready" },
    );
    const listeners = (await (await fetch(`http://${admin}/listeners?format=json`)).json()) as {
      listener_statuses: Array<{ name: string; local_address: { socket_address: { port_value: number } } }>;
    };
    const port = listeners.listener_statuses.find((listener) => listener.name === "edge")!.local_address.socket_address.port_value;
    return { port, adminPort: Number(admin.split(":").pop()), baseUrl: `http://127.0.0.1:${port}`, output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until Envoy's active health check sees the upstream cluster healthy. */
export async function waitHealthy(edge: RunningEnvoy, cluster: string): Promise<void> {
  await eventually(
    async () => {
      const clusters = await (await fetch(`http://127.0.0.1:${edge.adminPort}/clusters`)).text();
      return clusters.split("\n").some((line) => line.startsWith(`${cluster}::`) && line.includes("::health_flags::healthy")) ? true : undefined;
    },
    { timeoutMs: 15_000, what: `${cluster} healthy at the edge` },
  );
}

/** The address Envoy reaches a spawned service at. */
export const at = (service: SpawnedService): Upstream => ({ host: "127.0.0.1", port: service.port });

/**
 * An ES256 key written where identity loads it (JWT_SIGNING_KEY_FILE), so tests can mint the
 * tokens identity would issue: admins, expired ones.
 */
export async function createIdentityKey() {
  const dir = await mkdtemp(join(tmpdir(), "shopmesh-edge-key-"));
  const file = join(dir, "jwt-signing-key.pem");
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  await writeFile(file, await exportPKCS8(privateKey), { mode: 0o600 });
  const { d: _private, ...publicJwk } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const sign = async (key: CryptoKey, claims: { sub: string; roles: string[]; expiresInSeconds?: number }) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: claims.roles })
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer("shopmesh-identity")
      .setAudience("shopmesh")
      .setIssuedAt(now - 600)
      .setExpirationTime(now + (claims.expiresInSeconds ?? 300))
      .sign(key);
  };
  return {
    file,
    token: (claims: { sub: string; roles: string[]; expiresInSeconds?: number }) => sign(privateKey, claims),
    /** Same claims and key id, signed by a key identity never published. */
    forgedToken: async (claims: { sub: string; roles: string[] }) => sign((await generateKeyPair("ES256")).privateKey, claims),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface GrpcurlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `grpcurl -plaintext` against the edge, with the contracts as .proto files (the edge routes no reflection). */
export function grpcurl(address: string, method: string, body: unknown, headers: Record<string, string> = {}, protoFile?: string): Promise<GrpcurlResult> {
  const context = /^shopmesh\.([a-z]+)\.v1\./.exec(method)?.[1];
  const args = [
    "-plaintext",
    "-max-time",
    "10",
    "-import-path",
    join(REPO_ROOT, "proto"),
    "-import-path",
    join(REPO_ROOT, "third_party"),
    "-proto",
    protoFile ?? `shopmesh/${context}/v1/${context}.proto`,
    "-d",
    JSON.stringify(body),
    ...Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    address,
    method,
  ];
  return new Promise((resolve) => {
    execFile(GRPCURL, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
