// Once per jest run, at the end: the run's topics go (each file drops its own databases).
import { deleteTestTopics } from "./topics.mjs";

export default async function globalTeardown() {
  const current = process.env.SHOPMESH_TEST_RUN;
  await deleteTestTopics((run) => run === current);
}
