/**
 * Test isolation by construction. Every jest test file gets a namespace of its own
 * (test/setup/namespace.ts writes it into process.env before the file's code runs), so a
 * running dev stack, a second test run or a benchmark never sees the file's traffic, and the
 * file never sees theirs:
 * - Kafka topics `test.<run>.<file>.<topic>` (KAFKA_TOPIC_PREFIX; created on first use),
 * - consumer groups with a per-file suffix (KAFKA_GROUP_SUFFIX),
 * - Redis keys under `test:<run>:<file>:` (REDIS_KEY_PREFIX),
 * - search indices and aliases `test-<run>-<file>-...` (SEARCH_INDEX_PREFIX),
 * - databases `shopmesh_<service>_t<hex>` (testDatabaseName), dropped by the file.
 * Services built in-process read these from process.env like any other setting; spawned
 * services inherit them.
 */
import { randomBytes } from "node:crypto";
import type { ISocketFactory, Kafka } from "kafkajs";
import { createKafka } from "../kafka/events.js";
import { createRedis, type Redis } from "../redis.js";
import { createLogger, type Logger } from "../logger.js";
import { declaredTopics as topologyTopics } from "../topology.js";

/** Topics of every test run start with this; nothing else on the cluster does. */
export const TEST_TOPIC_ROOT = "test.";

/** A test run's id: `<base36 start time>-<random>`, so stale runs can be recognised by age. */
export function newTestRunId(now = Date.now()): string {
  return `${now.toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** When the run `runId` started (ms since the epoch), or undefined for a name that is not a run id. */
export function testRunStartedAt(runId: string): number | undefined {
  const match = /^([0-9a-z]+)-[0-9a-f]{6}$/.exec(runId);
  return match ? parseInt(match[1]!, 36) : undefined;
}

export interface TestNamespace {
  run: string;
  /** Unique within the run: one per test file. */
  suite: string;
  topicPrefix: string;
  groupSuffix: string;
  redisKeyPrefix: string;
  searchIndexPrefix: string;
}

/** Every search index of the test run `run` starts with this (index names are lowercase). */
export const testSearchIndexRoot = (run: string) => `test-${run}-`;

/** A fresh namespace under `run` (the whole jest run's id). */
export function newTestNamespace(run: string): TestNamespace {
  const suite = randomBytes(4).toString("hex");
  return {
    run,
    suite,
    topicPrefix: `${TEST_TOPIC_ROOT}${run}.${suite}.`,
    groupSuffix: `.test-${run}-${suite}`,
    redisKeyPrefix: `test:${run}:${suite}:`,
    searchIndexPrefix: `${testSearchIndexRoot(run)}${suite}-`,
  };
}

/** The variables through which services and helpers pick the namespace up. */
export function namespaceEnvironment(namespace: TestNamespace): Record<string, string> {
  return {
    SHOPMESH_TEST_RUN: namespace.run,
    SHOPMESH_TEST_SUITE: namespace.suite,
    KAFKA_TOPIC_PREFIX: namespace.topicPrefix,
    KAFKA_GROUP_SUFFIX: namespace.groupSuffix,
    REDIS_KEY_PREFIX: namespace.redisKeyPrefix,
    SEARCH_INDEX_PREFIX: namespace.searchIndexPrefix,
  };
}

/** This test file's namespace, as test/setup/namespace.ts put it into process.env. */
export function currentTestNamespace(): TestNamespace {
  const run = process.env["SHOPMESH_TEST_RUN"];
  const suite = process.env["SHOPMESH_TEST_SUITE"];
  if (!run || !suite) throw new Error("no test namespace: run tests through jest (test/setup/namespace.ts sets it)");
  return {
    run,
    suite,
    topicPrefix: process.env["KAFKA_TOPIC_PREFIX"] ?? "",
    groupSuffix: process.env["KAFKA_GROUP_SUFFIX"] ?? "",
    redisKeyPrefix: process.env["REDIS_KEY_PREFIX"] ?? "",
    searchIndexPrefix: process.env["SEARCH_INDEX_PREFIX"] ?? "",
  };
}

/** The topics the topology declares (dead-letter twins included), with their partition counts. */
export function declaredTopics(): Array<{ topic: string; numPartitions: number }> {
  return topologyTopics().map(({ name, partitions }) => ({ topic: name, numPartitions: partitions }));
}

const created = new Map<string, Promise<void>>();

/**
 * Creates this namespace's copies of every declared topic, once per broker, prefix and process (the
 * local broker does not auto-create topics). testKafka and the services' own clients then
 * find them.
 */
export function ensureTestTopics(brokers: string, topicPrefix: string): Promise<void> {
  // Per broker too: the chaos harness runs a broker of its own beside the shared one.
  const key = `${brokers}|${topicPrefix}`;
  let pending = created.get(key);
  if (!pending) {
    pending = createTopicsWithLeaders(brokers, topicPrefix, declaredTopics());
    pending.catch(() => created.delete(key));
    created.set(key, pending);
  }
  return pending;
}

/**
 * Creates `topics` under `topicPrefix` where missing and waits until every partition has a
 * leader. kafkajs's own waitForLeaders gives up as soon as a busy broker does not list a new
 * topic yet (UNKNOWN_TOPIC_OR_PARTITION), so this asks again until `timeoutMs`.
 */
export async function createTopicsWithLeaders(
  brokers: string,
  topicPrefix: string,
  topics: Array<{ topic: string; numPartitions: number }>,
  timeoutMs = 30_000,
): Promise<void> {
  const logger = createLogger({ service: "test-topics", level: "error" });
  // Unprefixed client, full names: fetchTopicMetadata takes the broker's names.
  const admin = createKafka({ brokers, clientId: "test-topics", logger }).admin();
  const named = topics.map((topic) => ({ ...topic, topic: `${topicPrefix}${topic.topic}` }));
  const names = named.map(({ topic }) => topic);
  const deadline = Date.now() + timeoutMs;
  await admin.connect();
  try {
    // waitForLeaders (on by default) would give up on the first UNKNOWN_TOPIC_OR_PARTITION: the loop below waits instead.
    await admin.createTopics({ topics: named, waitForLeaders: false, timeout: timeoutMs });
    for (;;) {
      const ready = await admin.fetchTopicMetadata({ topics: names }).then(
        ({ topics: found }) =>
          found.length === names.length && found.every(({ partitions }) => partitions.length > 0 && partitions.every(({ leader }) => leader >= 0)),
        (err: unknown) => {
          if (Date.now() > deadline) throw err;
          return false;
        },
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`topics without leaders after ${timeoutMs} ms: ${names.join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Deletes every topic whose name `select` picks (a namespace's topics once its run is over). */
export async function deleteTopicsWhere(brokers: string, select: (topic: string) => boolean): Promise<string[]> {
  const logger = createLogger({ service: "test-topics", level: "error" });
  const admin = createKafka({ brokers, clientId: "test-topics", logger }).admin();
  await admin.connect();
  try {
    const doomed = (await admin.listTopics()).filter(select);
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
    return doomed;
  } finally {
    await admin.disconnect();
  }
}

/** The run id of a test topic (`test.<run>.<suite>.<topic>`), or undefined for any other topic. */
export function testTopicRun(topic: string): string | undefined {
  return topic.startsWith(TEST_TOPIC_ROOT) ? topic.slice(TEST_TOPIC_ROOT.length).split(".")[0] : undefined;
}

/**
 * A Kafka client inside this test file's namespace: topics and groups are its own. A
 * `socketFactory` (e.g. a TcpProxy's) decides how it reaches the brokers; `logger` replaces
 * the one at TEST_LOG_LEVEL (a test that cuts the broker on purpose may want it quieter).
 */
export function testKafka(clientId: string, options: { socketFactory?: ISocketFactory; logger?: Logger } = {}): Kafka {
  const { topicPrefix } = currentTestNamespace();
  const logger = options.logger ?? createLogger({ service: clientId, level: process.env["TEST_LOG_LEVEL"] ?? "error" });
  return createKafka({
    brokers: process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092",
    clientId,
    logger,
    topicPrefix,
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
  });
}

/** A consumer group name inside this test file's namespace. */
export function testGroupId(name: string): string {
  return `${name}${currentTestNamespace().groupSuffix}`;
}

/** A Redis client whose keys are this test file's (the same prefix the services under test use). */
export function testRedis(url = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"): Redis {
  const logger = createLogger({ service: "test-redis", level: "error" });
  return createRedis(url, logger, { keyPrefix: currentTestNamespace().redisKeyPrefix });
}

/**
 * Deletes the search indices of the test run `run` (`test-<run>-*`). Best effort: with the
 * engine away there is nothing to delete that this run could have made.
 */
export async function deleteTestSearchIndices(opensearchUrl: string, run: string): Promise<void> {
  await fetch(`${opensearchUrl}/${testSearchIndexRoot(run)}*?expand_wildcards=all`, { method: "DELETE", signal: AbortSignal.timeout(10_000) }).catch(
    () => undefined,
  );
}
