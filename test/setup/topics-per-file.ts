/**
 * Component tests (files under a test/ folder) talk to the real broker, which creates no
 * topic by itself: their namespace's copies of the declared topics are made before the first test.
 */
import { currentTestNamespace, ensureTestTopics } from "../../platform/src/testing/namespace.js";

const testPath = expect.getState().testPath ?? "";
if (/[/\\]test[/\\]/.test(testPath)) {
  beforeAll(() => ensureTestTopics(process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092", currentTestNamespace().topicPrefix), 60_000);
}
