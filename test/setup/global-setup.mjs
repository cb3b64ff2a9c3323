// Once per jest run: picks the run's id (every test file's namespace lives under it, see
// platform/src/testing/namespace.ts) and deletes test topics that crashed runs left behind.
// Jest runs this outside its module mapping, so it loads the platform's build (`npm test`
// builds first).
import { deleteTopicsWhere, newTestRunId, testRunStartedAt, testTopicRun } from "@shopmesh/platform/testing";

const STALE_AFTER_MS = 6 * 3600_000;

export default async function globalSetup() {
  process.env.SHOPMESH_TEST_RUN ??= newTestRunId();
  const current = process.env.SHOPMESH_TEST_RUN;
  await deleteTopicsWhere(process.env.KAFKA_BROKERS ?? "127.0.0.1:9092", (topic) => {
    const run = testTopicRun(topic);
    const startedAt = run === undefined ? undefined : testRunStartedAt(run);
    return run !== current && startedAt !== undefined && Date.now() - startedAt > STALE_AFTER_MS;
  });
}
