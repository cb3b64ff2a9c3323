// Jest's global setup and teardown run outside its module mapping, so they load the platform's
// build (`npm test` builds before jest runs).
import { createKafka, createLogger } from "@shopmesh/platform";
import { TEST_TOPIC_ROOT, testRunStartedAt } from "@shopmesh/platform/testing";

/** Deletes the test topics (`test.<run>.…`) of every run that `select(run, startedAt)` picks. */
export async function deleteTestTopics(select) {
  const logger = createLogger({ service: "test-topics", level: "error" });
  const admin = createKafka({ brokers: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092", clientId: "test-topics", logger }).admin();
  await admin.connect();
  try {
    const doomed = (await admin.listTopics()).filter((topic) => {
      if (!topic.startsWith(TEST_TOPIC_ROOT)) return false;
      const run = topic.slice(TEST_TOPIC_ROOT.length).split(".")[0];
      return select(run, testRunStartedAt(run));
    });
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}
