import { readFile } from "node:fs/promises";
import { deadLetterTopic } from "./consumer.js";
import { TOPICS } from "./topics.js";

test("the infrastructure scripts create every topic the code publishes to, and its dead-letter twin", async () => {
  const text = await readFile(new URL("../../../scripts/infra/topics.txt", import.meta.url), "utf8");
  const created = new Set(
    text
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[0])
      .filter((name): name is string => !!name && !name.startsWith("#")),
  );
  for (const topic of Object.values(TOPICS)) {
    expect(created).toContain(topic);
    expect(created).toContain(deadLetterTopic(topic));
  }
});
