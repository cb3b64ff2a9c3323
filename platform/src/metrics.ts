import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per service process, passed to whatever records metrics.
 * Names follow `shopmesh_<thing>` and are listed in docs/telemetry.md.
 */
export interface ServiceMetrics {
  registry: Registry;
  rpcDuration: Histogram<"service" | "method" | "code" | "transport">;
  rpcInFlight: Gauge<"service" | "transport">;
  clientDuration: Histogram<"target" | "method" | "code">;
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
    name: "shopmesh_outbox_published_total",
    help: "Events the outbox relay published to Kafka, by topic.",
    labelNames: ["topic"] as const,
    registers: [platformRegistry],
  }),
  outboxPublishFailures: new Counter({
    name: "shopmesh_outbox_publish_failures_total",
    help: "Outbox relay batches that failed and will be retried.",
    registers: [platformRegistry],
  }),
  outboxPublishLatency: new Histogram({
    name: "shopmesh_outbox_publish_latency_seconds",
    help: "Time from the outbox row's commit to its publication on Kafka, by topic.",
    labelNames: ["topic"] as const,
    buckets: EVENT_BUCKETS,
    registers: [platformRegistry],
  }),
  outboxBacklog: new Gauge({
    name: "shopmesh_outbox_backlog",
    help: "Outbox rows not yet published, by relay source (counted at scrape time).",
    labelNames: ["source"] as const,
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
    name: "shopmesh_events_processed_total",
    help: "Events a consumer group handled, by outcome: applied, duplicate (skipped), dead_lettered.",
    labelNames: ["group", "topic", "type", "outcome"] as const,
    registers: [platformRegistry],
  }),
  eventRetries: new Counter({
    name: "shopmesh_event_retries_total",
    help: "Failed attempts to apply an event that were retried with backoff.",
    labelNames: ["group", "topic"] as const,
    registers: [platformRegistry],
  }),
  eventDeadLetters: new Counter({
    name: "shopmesh_event_dead_letters_total",
    help: "Events sent to the dead-letter topic after their last attempt (or at once when poisonous).",
    labelNames: ["group", "topic"] as const,
    registers: [platformRegistry],
  }),
  eventLatency: new Histogram({
    name: "shopmesh_event_end_to_end_latency_seconds",
    help: "Time from an event's creation (ce_time) to a consumer group finishing it.",
    labelNames: ["group", "topic"] as const,
    buckets: EVENT_BUCKETS,
    registers: [platformRegistry],
  }),
  consumerLag: new Gauge({
    name: "shopmesh_consumer_lag",
    help: "Messages between the group's position and the partition's high watermark, after each batch.",
    labelNames: ["group", "topic", "partition"] as const,
    registers: [platformRegistry],
  }),
  dbPoolConnections: new Gauge({
    name: "shopmesh_db_pool_connections",
    help: "MySQL pool connections by state: max (limit), open, idle, in_use; read at scrape time.",
    labelNames: ["database", "state"] as const,
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
    name: "shopmesh_db_pool_waiting_requests",
    help: "Callers waiting for a MySQL connection: queued because the pool is exhausted, or while one is opened.",
    labelNames: ["database"] as const,
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
  registry.setDefaultLabels({ service_name: service });
  return {
    registry,
    rpcDuration: new Histogram({
      name: "shopmesh_rpc_server_duration_seconds",
      help: "Server-side RPC latency by method and status code.",
      labelNames: ["service", "method", "code", "transport"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    rpcInFlight: new Gauge({
      name: "shopmesh_rpc_server_in_flight",
      help: "RPCs being served right now.",
      labelNames: ["service", "transport"],
      registers: [registry],
    }),
    clientDuration: new Histogram({
      name: "shopmesh_rpc_client_duration_seconds",
      help: "Outgoing RPC latency by target service, method and status code.",
      labelNames: ["target", "method", "code"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}

export { Counter, Gauge, Histogram, Registry };
