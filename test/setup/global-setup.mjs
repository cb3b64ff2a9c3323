// Once per jest run: picks the run's id (every test file's namespace lives under it, see
// platform/src/testing/namespace.ts) and deletes test topics that crashed runs left behind.
import { newTestRunId } from "@shopmesh/platform/testing";
import { deleteTestTopics } from "./topics.mjs";

const STALE_AFTER_MS = 6 * 3600_000;

export default async function globalSetup() {
  process.env.SHOPMESH_TEST_RUN ??= newTestRunId();
  const current = process.env.SHOPMESH_TEST_RUN;
  await deleteTestTopics((run, startedAt) => run !== current && startedAt !== undefined && Date.now() - startedAt > STALE_AFTER_MS);
}
