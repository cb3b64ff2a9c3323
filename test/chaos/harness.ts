// The chaos harness: the checkout mesh as real processes behind a real Envoy, with Toxiproxy
// between the services and MariaDB, Redis, Kafka and the payment provider, and a Kafka broker
// of its own (so stopping it touches nobody else). A fault runs under the open-model checkout load;
// once the load is done and the system is quiet, the invariant checker counts what broke.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createKafka, listDeadLetters } from "@shopmesh/platform/data";
import {
  createProxy,
  currentTestNamespace,
  ensureTestTopics,
  eventually,
  TEST_MYSQL,
  TEST_OPENSEARCH_URL,
  TEST_REDIS_URL,
  testLogger,
  type Proxy,
} from "@shopmesh/platform/testing";
import { topology } from "@shopmesh/platform/topology";
import { REPO_ROOT, startEdge, waitHealthy, type RunningEnvoy } from "../edge/harness.js";
import { startMesh, type Mesh } from "../e2e/mesh.js";
import { openShop, type Shop } from "../e2e/shop.js";
import { checkInvariants, countEmailsDeliveredTwice, emptyReport, waitUntilQuiet, type CheckoutRecord, type InvariantReport } from "./invariants.js";
import { startKafkaBroker, type KafkaBroker } from "./kafka-broker.js";
import { registerCustomers, runCheckoutLoad } from "./load.js";
import { FAILPOINT_HIT, FAILPOINTS } from "../../platform/src/failpoint.js";

const quietLogger = testLogger("chaos-dlq");

export const CHAOS_SERVICES = ["identity", "catalog", "inventory", "cart", "order", "payment", "payment-provider-sim", "delivery", "notification"];
/** Services the edge routes the customer's calls to; the load waits until Envoy sees them healthy. */
const EDGE_SERVICES = ["identity", "catalog", "cart", "order", "payment"];

export interface ChaosMesh {
  mesh: Mesh;
  edge: RunningEnvoy;
  broker: KafkaBroker;
  proxies: Record<Link, Proxy>;
  shop: Shop;
  /** Everything acknowledged so far, and the stock each product started with (the checker reads all of it). */
  acknowledged: CheckoutRecord[];
  initialStock: Record<string, number>;
  /** The checker's totals after the previous fault: each row reports what its own fault added. */
  previous: InvariantReport;
  stop(): Promise<void>;
}

/** The network links the harness can cut, slow or throttle. */
export type Link = "mysql" | "redis" | "kafka" | "opensearch" | "provider";
const LINK_NAMES: Record<Link, string> = { mysql: "MariaDB", redis: "Redis", kafka: "Kafka", opensearch: "OpenSearch", provider: "payment provider" };

export async function startChaosMesh(): Promise<ChaosMesh> {
  const redisUpstream = new URL(TEST_REDIS_URL);
  const proxies: Record<Link, Proxy> = {
    mysql: await createProxy("mysql", `${TEST_MYSQL.host}:${TEST_MYSQL.port}`),
    redis: await createProxy("redis", `${redisUpstream.hostname}:${redisUpstream.port || topology.infrastructure.redis.port}`),
    opensearch: await createProxy("opensearch", new URL(TEST_OPENSEARCH_URL).host),
    // Upstreams known only later: the broker's port, and the simulator's once the mesh has picked it.
    kafka: await createProxy("kafka", "127.0.0.1:1"),
    provider: await createProxy("provider", "127.0.0.1:1"),
  };
  let broker: KafkaBroker | undefined;
  const cleanUp = async () => {
    for (const proxy of Object.values(proxies)) await proxy.remove().catch(() => undefined);
    await broker?.destroy();
  };
  try {
    broker = await startKafkaBroker({
      advertise: async (port) => {
        await proxies.kafka.retarget(`127.0.0.1:${port}`);
        return proxies.kafka.port;
      },
    });
    await ensureTestTopics(broker.brokers, currentTestNamespace().topicPrefix);
    const throughFaults = {
      MYSQL_HOST: "127.0.0.1",
      MYSQL_PORT: String(proxies.mysql.port),
      REDIS_URL: `redis://127.0.0.1:${proxies.redis.port}`,
      KAFKA_BROKERS: broker.brokers,
      // The run's topics are new: a consumer restarted after a crash must read what it missed
      // on partitions it never committed an offset on, not jump to their end.
      KAFKA_CONSUMER_START: "beginning",
    };
    const extra: Record<string, Record<string, string>> = Object.fromEntries(CHAOS_SERVICES.map((name) => [name, { ...throughFaults }]));
    extra["payment"]!["PAYMENT_PROVIDER_URL"] = `http://127.0.0.1:${proxies.provider.port}`;
    extra["catalog"]!["OPENSEARCH_URL"] = `http://127.0.0.1:${proxies.opensearch.port}`;
    const mesh = await startMesh(CHAOS_SERVICES, extra);
    try {
      await proxies.provider.retarget(`127.0.0.1:${mesh.ports["payment-provider-sim"]}`);
      const upstreams = Object.fromEntries(Object.entries(mesh.ports).map(([name, port]) => [name, { host: "127.0.0.1", port }]));
      const edge = await startEdge(upstreams, { rateLimitTimeoutMs: 50 });
      try {
        await Promise.all(EDGE_SERVICES.map((name) => waitHealthy(edge, `${name}_http`)));
        const shop = await openShop(mesh);
        return {
          mesh,
          edge,
          broker,
          proxies,
          shop,
          acknowledged: [],
          initialStock: {},
          previous: emptyReport(),
          async stop() {
            await edge.stop();
            await mesh.stop();
            await cleanUp();
          },
        };
      } catch (err) {
        await edge.stop();
        throw err;
      }
    } catch (err) {
      await mesh.stop();
      throw err;
    }
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/** One fault: what it breaks, for how long under load, and how it is put right. */
export interface Fault {
  name: string;
  /** How long the fault lasts, under load, before `recover`. */
  durationMs: number;
  inject(chaos: ChaosMesh): Promise<void>;
  recover(chaos: ChaosMesh): Promise<void>;
}

/** No fault: the same load and checks on a healthy mesh (the rate's own figures, the others' yardstick). */
export const noFault = (durationMs = 5_000): Fault => ({
  name: "no fault (baseline)",
  durationMs,
  inject: async () => undefined,
  recover: async () => undefined,
});

/** A crash: SIGKILL, and the orchestrator starts it again after `downMs`. */
export const killNine = (service: string, downMs = 2_000): Fault => ({
  name: `kill -9 ${service}`,
  durationMs: downMs,
  inject: (chaos) => chaos.mesh.processes.get(service)!.kill(),
  recover: (chaos) => chaos.mesh.start(service).then(() => undefined),
});

/** A rolling restart of the only replica: SIGTERM, a graceful exit, started again at once. */
export const sigterm = (service: string): Fault => ({
  name: `SIGTERM ${service}`,
  durationMs: 0,
  inject: (chaos) =>
    chaos.mesh.processes
      .get(service)!
      .stop(30_000)
      .then(() => undefined),
  recover: (chaos) => chaos.mesh.start(service).then(() => undefined),
});

/** A hung process: SIGSTOP, then SIGCONT; callers must time out and trip their breakers meanwhile. */
export const hang = (service: string, durationMs = 10_000): Fault => ({
  name: `SIGSTOP ${service} ${durationMs / 1000} s`,
  durationMs,
  inject: async (chaos) => void chaos.mesh.processes.get(service)!.process.kill("SIGSTOP"),
  recover: async (chaos) => void chaos.mesh.processes.get(service)!.process.kill("SIGCONT"),
});

/**
 * A crash at an exact step: the service restarts with the failpoint armed (see
 * platform/src/failpoint.ts) and crashes itself when the load drives it there; like an
 * orchestrator, the harness starts it again a second later, without the failpoint.
 */
export const crashAt = (service: string, failpoint: string, pass: number): Fault => {
  let restarted: Promise<unknown> | undefined;
  return {
    name: `${service} crashes at ${failpoint}`,
    durationMs: 15_000,
    async inject(chaos) {
      restarted = undefined;
      await chaos.mesh.processes.get(service)!.stop(30_000);
      const restart = () => {
        restarted = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() => chaos.mesh.start(service));
        restarted.catch(() => undefined); // awaited (and thrown) in recover
      };
      let armed;
      try {
        armed = await chaos.mesh.start(service, { SHOPMESH_FAILPOINTS: `${failpoint}@${pass}` });
      } catch (err) {
        // The step can come before the port opens (a relay publishing what waited in the outbox).
        if (!String(err).includes(FAILPOINT_HIT)) throw err;
        restart();
        return;
      }
      armed.process.once("exit", (_code, signal) => {
        if (signal === "SIGKILL") restart();
      });
    },
    async recover(chaos) {
      if (restarted) {
        await restarted;
        return;
      }
      await chaos.mesh.processes.get(service)!.stop(30_000);
      await chaos.mesh.start(service);
      throw new Error(`${service} never reached failpoint ${failpoint} (pass ${pass}) under the load`);
    },
  };
};

/**
 * A poison event, then the dead-letter queue, then a fix, then a replay: `service` restarts
 * with a build that rejects one event of `topic` (the failpoint consumer.rejects-event), which
 * its consumer retries and dead-letters; the fixed build (no failpoint) starts, and the
 * operator's command (`npm run dlq -- replay`, platform/src/cli/dlq.ts) publishes it again.
 */
export const poisonThenReplay = (service: string, topic: string, nth: number, durationMs = 10_000): Fault => ({
  name: `poison event at ${service}, dead-lettered, fixed, replayed`,
  durationMs,
  async inject(chaos) {
    await chaos.mesh.processes.get(service)!.stop(30_000);
    await chaos.mesh.start(service, { SHOPMESH_FAILPOINTS: `${FAILPOINTS.consumerRejectsEvent}@${nth}` });
  },
  async recover(chaos) {
    const kafka = createKafka({ brokers: chaos.broker.brokers, clientId: "chaos-dlq", topicPrefix: currentTestNamespace().topicPrefix, logger: quietLogger });
    const letter = await eventually(async () => (await listDeadLetters(kafka, topic)).find((found) => found.error?.includes(FAILPOINTS.consumerRejectsEvent)), {
      timeoutMs: 60_000,
      what: `the rejected event in ${topic}.dlq`,
    });
    await chaos.mesh.processes.get(service)!.stop(30_000);
    await chaos.mesh.start(service);
    const replay = spawnSync(process.execPath, [join(REPO_ROOT, "platform", "dist", "cli", "dlq.js"), "replay", topic, letter.eventId!], {
      env: { ...process.env, KAFKA_BROKERS: chaos.broker.brokers, KAFKA_TOPIC_PREFIX: currentTestNamespace().topicPrefix },
      encoding: "utf8",
      timeout: 60_000,
    });
    if (replay.status !== 0) throw new Error(`dlq replay failed (${replay.status}): ${replay.stdout}${replay.stderr}`);
  },
});

export const brokerDown = (durationMs: number): Fault => ({
  name: `Kafka broker stopped ${durationMs / 1000} s`,
  durationMs,
  inject: (chaos) => chaos.broker.stop(),
  recover: (chaos) => chaos.broker.start(),
});

export const cut = (link: Link, durationMs: number): Fault => ({
  name: `${LINK_NAMES[link]} unreachable ${durationMs / 1000} s`,
  durationMs,
  inject: (chaos) => chaos.proxies[link].cut(),
  recover: (chaos) => chaos.proxies[link].heal(),
});

export const slow = (link: Link, latencyMs: number, durationMs: number): Fault => ({
  name: `${LINK_NAMES[link]} +${latencyMs} ms for ${durationMs / 1000} s`,
  durationMs,
  inject: (chaos) => chaos.proxies[link].addLatency(latencyMs),
  recover: (chaos) => chaos.proxies[link].heal(),
});

export const throttle = (link: Link, kilobytesPerSecond: number, durationMs: number): Fault => ({
  name: `${LINK_NAMES[link]} bandwidth ${kilobytesPerSecond} KB/s for ${durationMs / 1000} s`,
  durationMs,
  inject: (chaos) => chaos.proxies[link].limitBandwidth(kilobytesPerSecond),
  recover: (chaos) => chaos.proxies[link].heal(),
});

/**
 * A crash during a broker outage: `service` is killed while the broker is stopped and must
 * start again (and serve) before the broker is back, not crash-loop until it is.
 */
export const restartDuringBrokerOutage = (service: string, durationMs = 15_000): Fault => ({
  name: `kill -9 ${service} while the Kafka broker is stopped`,
  durationMs,
  async inject(chaos) {
    await chaos.broker.stop();
    await chaos.mesh.processes.get(service)!.kill();
    await chaos.mesh.start(service);
  },
  recover: (chaos) => chaos.broker.start(),
});

/** The provider simulator misbehaving with its webhooks (duplicates, reversed order, a delay). */
export const webhooks = (label: string, behaviour: Record<string, unknown>, durationMs: number): Fault => ({
  name: `provider webhooks ${label}`,
  durationMs,
  inject: (chaos) => chaos.shop.setProviderBehaviour(behaviour),
  recover: (chaos) => chaos.shop.setProviderBehaviour({}),
});

/**
 * Payment outcomes that arrive after the order gave up on them: order restarts with a payment
 * window of `windowSeconds` and the provider holds every webhook for longer. The order expires
 * (its reservation released) and the late capture must be refunded by itself, visibly on the
 * order. The short window stays until the last held webhook has arrived.
 */
export const webhooksAfterExpiry = (windowSeconds: number, durationMs: number): Fault => {
  const delayMs = (windowSeconds + 5) * 1000;
  return {
    name: `provider webhooks delayed past the order's expiry`,
    durationMs,
    async inject(chaos) {
      await chaos.mesh.processes.get("order")!.stop(30_000);
      await chaos.mesh.start("order", { ORDER_PAYMENT_WINDOW_SECONDS: String(windowSeconds), ORDER_SWEEP_INTERVAL_MS: "1000" });
      await chaos.shop.setProviderBehaviour({ delay_ms: delayMs });
    },
    async recover(chaos) {
      await chaos.shop.setProviderBehaviour({});
      await new Promise((resolve) => setTimeout(resolve, delayMs + 2_000));
      await chaos.mesh.processes.get("order")!.stop(30_000);
      await chaos.mesh.start("order");
    },
  };
};

/** One fault's row: the load's figures, and what the checker found that this fault added. */
export interface FaultRow extends InvariantReport {
  fault: string;
  rate: number;
  sent: number;
  acknowledged: number;
  refused: number;
  retries: number;
  /** Searches the database answered because the engine was away. */
  degradedSearches: number;
  clientErrors: Record<string, number>;
  /** Measured, not a broken guarantee: see countEmailsDeliveredTwice. */
  emailsDeliveredTwice: number;
  /** From the fault's end until the system was quiet again (or the bound, when it never was). */
  recoverMs: number;
  /** The saga finished everything it had to within the bound. */
  quiet: boolean;
}

export interface RunOptions {
  ratePerSecond: number;
  /** Load before the fault starts and after it ends. */
  beforeMs?: number;
  afterMs?: number;
  /** How long the system may take to become quiet after the load. */
  quietTimeoutMs?: number;
  progress?: (line: string) => void;
}

/**
 * Runs one fault under load and returns its row. Every service is running again before it
 * returns; the row counts only what this fault added to the checker's totals.
 */
export async function runFault(chaos: ChaosMesh, fault: Fault, options: RunOptions): Promise<FaultRow> {
  const beforeMs = options.beforeMs ?? 3_000;
  const afterMs = options.afterMs ?? 5_000;
  const progress = options.progress ?? (() => undefined);
  const durationMs = beforeMs + fault.durationMs + afterMs;
  const total = Math.floor((options.ratePerSecond * durationMs) / 1000);

  // Plenty of stock on two products, and one scarce one that sells out under the load.
  const plenty = [await chaos.shop.newProduct(1999n, 100_000), await chaos.shop.newProduct(2999n, 100_000)];
  const scarceUnits = Math.max(2, Math.floor(total / 6));
  const scarce = await chaos.shop.newProduct(4999n, scarceUnits);
  chaos.initialStock[plenty[0]!] = 100_000;
  chaos.initialStock[plenty[1]!] = 100_000;
  chaos.initialStock[scarce] = scarceUnits;
  const customers = await registerCustomers(`http://127.0.0.1:${chaos.mesh.ports["identity"]}`, total);
  progress(`${fault.name}: ${total} checkouts at ${options.ratePerSecond}/s over ${durationMs / 1000} s`);

  const load = runCheckoutLoad({
    edgeUrl: chaos.edge.baseUrl,
    providerUrl: `http://127.0.0.1:${chaos.mesh.ports["payment-provider-sim"]}`,
    customers,
    productIds: [plenty[0]!, scarce, plenty[1]!],
    ratePerSecond: options.ratePerSecond,
    durationMs,
    declineEvery: 10,
  });
  let faultEnded = Date.now();
  const faultDone = (async () => {
    await new Promise((resolve) => setTimeout(resolve, beforeMs));
    progress(`${fault.name}: injecting`);
    await fault.inject(chaos);
    await new Promise((resolve) => setTimeout(resolve, fault.durationMs));
    await fault.recover(chaos);
    faultEnded = Date.now();
    progress(`${fault.name}: recovered`);
  })();
  // Both settle before either failure is reported: a fault that failed must not leave the load running.
  const [loadOutcome, faultOutcome] = await Promise.allSettled([load, faultDone]);
  if (faultOutcome.status === "rejected") throw faultOutcome.reason;
  if (loadOutcome.status === "rejected") throw loadOutcome.reason;
  const loadResult = loadOutcome.value;
  chaos.acknowledged.push(...loadResult.acknowledged);

  const input = { databases: chaos.mesh.databases, acknowledged: chaos.acknowledged, initialStock: chaos.initialStock };
  const quietTimeoutMs = options.quietTimeoutMs ?? 120_000;
  const stuck = await waitUntilQuiet(input, quietTimeoutMs);
  const stuckLines = stuck.map((work) => `lost: not settled within ${quietTimeoutMs / 1000} s: ${work.line}`);
  if (stuck.length > 0) progress(`${fault.name}: not quiet: ${stuckLines.join("; ")}`);
  const recoverMs = Date.now() - faultEnded;
  const totals = await checkInvariants(input);
  const previous = chaos.previous;
  chaos.previous = totals;
  const row: FaultRow = {
    fault: fault.name,
    rate: options.ratePerSecond,
    sent: loadResult.sent,
    acknowledged: loadResult.acknowledged.length,
    refused: loadResult.refused,
    retries: loadResult.retries,
    degradedSearches: loadResult.degradedSearches,
    clientErrors: loadResult.clientErrors,
    // Work the saga never finished within the bound: orders that did not reach their expected state.
    lost: totals.lost - previous.lost + stuck.reduce((sum, work) => sum + work.count, 0),
    duplicated: totals.duplicated - previous.duplicated,
    oversold: totals.oversold - previous.oversold,
    doubleCharged: totals.doubleCharged - previous.doubleCharged,
    ledgerImbalance: totals.ledgerImbalance - previous.ledgerImbalance,
    leakedReservations: totals.leakedReservations - previous.leakedReservations,
    emailsDeliveredTwice: await countEmailsDeliveredTwice(loadResult.acknowledged),
    refundedAfterCancel: totals.refundedAfterCancel - previous.refundedAfterCancel,
    recoverMs,
    quiet: stuck.length === 0,
    details: [...stuckLines, ...totals.details.filter((line) => !previous.details.includes(line))],
  };
  progress(
    `${fault.name}: sent ${row.sent}, acknowledged ${row.acknowledged}, client errors ${JSON.stringify(row.clientErrors)}, searches degraded ${row.degradedSearches}, lost ${row.lost}, duplicated ${row.duplicated}, oversold ${row.oversold}, double-charged ${row.doubleCharged}, recovered in ${(recoverMs / 1000).toFixed(1)} s`,
  );
  return row;
}
