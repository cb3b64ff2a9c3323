// A small client of Toxiproxy's HTTP API (scripts/infra/up.sh starts the server): a test makes
// proxies of its own, on ports the server picks, in front of MariaDB, Redis or a service, and
// cuts or slows them (the chaos harness, test/chaos/, and component tests of outages).
import { randomBytes } from "node:crypto";
import { topology } from "../topology.js";

const API = process.env["TOXIPROXY_URL"] ?? `http://127.0.0.1:${process.env["TOXIPROXY_PORT"] ?? topology.infrastructure.toxiproxyApi.port}`;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Proxy {
  name: string;
  /** Where clients connect instead of the upstream. */
  port: number;
  /** Refuses new connections and closes open ones (the server is unreachable). */
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** Adds `ms` (± `jitterMs`) to every chunk both ways. */
  addLatency(ms: number, jitterMs?: number): Promise<void>;
  /** Limits both directions to `kilobytesPerSecond`. */
  limitBandwidth(kilobytesPerSecond: number): Promise<void>;
  /** Points the proxy at another upstream (host:port). */
  retarget(upstream: string): Promise<void>;
  /** Removes every toxic (latency, bandwidth) and re-enables the proxy. */
  heal(): Promise<void>;
  remove(): Promise<void>;
}

/** A new proxy in front of `upstream` (host:port), listening on a port Toxiproxy chooses. */
export async function createProxy(label: string, upstream: string): Promise<Proxy> {
  const name = `test-${label}-${randomBytes(3).toString("hex")}`;
  const created = await call<{ listen: string }>("POST", "/proxies", { name, listen: "127.0.0.1:0", upstream, enabled: true });
  const port = Number(created.listen.split(":").pop());
  const toxics = async () => call<Array<{ name: string }>>("GET", `/proxies/${name}/toxics`);
  const setEnabled = (enabled: boolean) => call("POST", `/proxies/${name}`, { enabled });
  const addToxicBothWays = async (type: string, attributes: Record<string, number>) => {
    for (const stream of ["downstream", "upstream"]) {
      await call("POST", `/proxies/${name}/toxics`, { name: `${type}_${stream}`, type, stream, toxicity: 1, attributes });
    }
  };
  return {
    name,
    port,
    cut: () => setEnabled(false).then(() => undefined),
    restore: () => setEnabled(true).then(() => undefined),
    retarget: (upstream) => call("POST", `/proxies/${name}`, { upstream }).then(() => undefined),
    addLatency: (ms, jitterMs = 0) => addToxicBothWays("latency", { latency: ms, jitter: jitterMs }),
    limitBandwidth: (kilobytesPerSecond) => addToxicBothWays("bandwidth", { rate: kilobytesPerSecond }),
    async heal() {
      for (const toxic of await toxics()) await call("DELETE", `/proxies/${name}/toxics/${toxic.name}`);
      await setEnabled(true);
    },
    remove: () => call("DELETE", `/proxies/${name}`).then(() => undefined),
  };
}

/** Whether the Toxiproxy server answers (scripts/infra/up.sh toxiproxy starts it). */
export async function toxiproxyAvailable(): Promise<boolean> {
  return call("GET", "/version").then(
    () => true,
    () => false,
  );
}
