// Once per jest run, at the end: the run's topics and search indices go (each file drops its own databases).
import { deleteTestSearchIndices, deleteTopicsWhere, testTopicRun } from "@shopmesh/platform/testing";

export default async function globalTeardown() {
  const current = process.env.SHOPMESH_TEST_RUN;
  await deleteTopicsWhere(process.env.KAFKA_BROKERS ?? "127.0.0.1:9092", (topic) => testTopicRun(topic) === current);
  await deleteTestSearchIndices(process.env.OPENSEARCH_URL ?? "http://127.0.0.1:9200", current);
}
