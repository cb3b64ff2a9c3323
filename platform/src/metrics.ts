import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { METRICS, SERVICE_NAME_LABEL } from "./telemetry/schema.js";

/**
 * One Prometheus registry per service process, passed to whatever records metrics.
 * Names, help texts and labels come from the telemetry registry (`METRICS` in
 * telemetry/schema.ts), which docs/telemetry.md is generated from.
 */
export interface ServiceMetrics {
  registry: Registry;
  rpcDuration: Histogram<"service" | "method" | "code" | "transport">;
  rpcInFlight: Gauge<"service" | "transport">;
  clientDuration: Histogram<"target" | "method" | "code">;
}

/** A registered metric's name, help text and labels, as prom-client's options take them. */
function spec<const L extends readonly string[]>(metric: { name: string; help: string; labelNames: L }) {
  return { name: metric.name, help: metric.help, labelNames: metric.labelNames };
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const EVENT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A MySQL pool's connections and waiting callers, read at scrape time (see createMysqlPool). */
export interface PoolUsage {
  max: number;
  open: number;
  idle: number;
  waiting: number;
}

const backlogSources = new Map<string, () => Promise<number>>();
const deadLetterSources = new Map<string, () => Promise<Map<string, number>>>();
const poolSources = new Map<string, () => PoolUsage | undefined>();

/**
 * What the platform's own components record (outbox relay, event consumer, MySQL pools),
 * whichever service they run in. Kept in one process-wide registry because those components
 * are built deep inside each service's wiring; every service's `/metrics` includes it
 * (see `createServiceMetrics`), labelled with the service's name.
 */
const platformRegistry = new Registry();
export const platformMetrics = {
  registry: platformRegistry,
  outboxPublished: new Counter({
    ...spec(METRICS.outboxPublished),
    registers: [platformRegistry],
  }),
  outboxPublishFailures: new Counter({
    ...spec(METRICS.outboxPublishFailures),
    registers: [platformRegistry],
  }),
  outboxPublishLatency: new Histogram({
    ...spec(METRICS.outboxPublishLatency),
    buckets: EVENT_BUCKETS,
    registers: [platformRegistry],
  }),
  outboxBacklog: new Gauge({
    ...spec(METRICS.outboxBacklog),
    registers: [platformRegistry],
    async collect() {
      this.reset();
      for (const [source, count] of backlogSources) {
        try {
          this.set({ source }, await count());
        } catch {
          // database unreachable: no sample rather than a wrong one
        }
      }
    },
  }),
  eventsProcessed: new Counter({
    ...spec(METRICS.eventsProcessed),
    registers: [platformRegistry],
  }),
  eventRetries: new Counter({
    ...spec(METRICS.eventRetries),
    registers: [platformRegistry],
  }),
  eventDeadLetters: new Counter({
    ...spec(METRICS.eventDeadLetters),
    registers: [platformRegistry],
  }),
  deadLetterMessages: new Gauge({
    ...spec(METRICS.deadLetterMessages),
    registers: [platformRegistry],
    async collect() {
      this.reset();
      const sizes = new Map<string, number>();
      for (const read of deadLetterSources.values()) {
        try {
          for (const [topic, size] of await read()) sizes.set(topic, size);
        } catch {
          // broker unreachable: no sample rather than a wrong one
        }
      }
      for (const [topic, size] of sizes) this.set({ topic }, size);
    },
  }),
  eventLatency: new Histogram({
    ...spec(METRICS.eventLatency),
    buckets: EVENT_BUCKETS,
    registers: [platformRegistry],
  }),
  consumerLag: new Gauge({
    ...spec(METRICS.consumerLag),
    registers: [platformRegistry],
  }),
  dbPoolConnections: new Gauge({
    ...spec(METRICS.dbPoolConnections),
    registers: [platformRegistry],
    collect() {
      this.reset();
      for (const [database, read] of poolSources) {
        const usage = read();
        if (!usage) continue;
        const { max, open, idle } = usage;
        this.set({ database, state: "max" }, max);
        this.set({ database, state: "open" }, open);
        this.set({ database, state: "idle" }, idle);
        this.set({ database, state: "in_use" }, open - idle);
      }
    },
  }),
  dbPoolWaiting: new Gauge({
    ...spec(METRICS.dbPoolWaiting),
    registers: [platformRegistry],
    collect() {
      this.reset();
      for (const [database, read] of poolSources) {
        const usage = read();
        if (usage) this.set({ database }, usage.waiting);
      }
    },
  }),
  /** Counts the outbox backlog of a relay at scrape time; returns the function that stops it. */
  trackOutboxBacklog(source: string, count: () => Promise<number>): () => void {
    backlogSources.set(source, count);
    return () => void (backlogSources.get(source) === count && backlogSources.delete(source));
  },
  /**
   * Reports the size of dead-letter topics at scrape time (`read` resolves dead-letter topic ->
   * messages in it); returns the function that stops it.
   */
  trackDeadLetters(group: string, read: () => Promise<Map<string, number>>): () => void {
    deadLetterSources.set(group, read);
    return () => void (deadLetterSources.get(group) === read && deadLetterSources.delete(group));
  },
  /** Reports a MySQL pool's usage at scrape time (undefined: closed, no sample); returns the function that stops it. */
  trackPool(database: string, usage: () => PoolUsage | undefined): () => void {
    poolSources.set(database, usage);
    return () => void (poolSources.get(database) === usage && poolSources.delete(database));
  },
};

export function createServiceMetrics(service: string): ServiceMetrics {
  const own = new Registry();
  collectDefaultMetrics({ register: own });
  // The service's metrics plus the platform's (outbox, consumers, pools), served together.
  const registry = Registry.merge([own, platformRegistry]);
  registry.setDefaultLabels({ [SERVICE_NAME_LABEL]: service });
  return {
    registry,
    rpcDuration: new Histogram({
      ...spec(METRICS.rpcServerDuration),
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    rpcInFlight: new Gauge({
      ...spec(METRICS.rpcServerInFlight),
      registers: [registry],
    }),
    clientDuration: new Histogram({
      ...spec(METRICS.rpcClientDuration),
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}

export { Counter, Gauge, Histogram, Registry };
