#!/usr/bin/env node
// Proves the suite ran beside the dev stack without touching it: the stack's own topics
// (`shopmesh.*`, unprefixed) get no message from the tests, and its dead-letter topics no
// new dead letter.
//   node scripts/ci/stack-topics.mjs snapshot FILE   record every stack topic's high watermarks
//   node scripts/ci/stack-topics.mjs check FILE      fail if any moved since the snapshot
//   node scripts/ci/stack-topics.mjs check FILE --dead-letters-only
//                                     only the dead-letter topics (a stack someone is using)
import { readFileSync, writeFileSync } from "node:fs";
import { createLogger } from "@shopmesh/platform";
import { createKafka } from "@shopmesh/platform/data";
import { exitWithUsage, parseCommandLine } from "../lib/command-line.mjs";

const USAGE = "stack-topics.mjs snapshot FILE | check FILE [--dead-letters-only]";
const { values: flags, positionals } = parseCommandLine("stack-topics", USAGE, {
  options: { "dead-letters-only": { type: "boolean" } },
  allowPositionals: true,
});
const [command, file, ...extra] = positionals;
const deadLettersOnly = flags["dead-letters-only"] ?? false;
if (!file || extra.length > 0 || (command !== "snapshot" && command !== "check")) exitWithUsage("stack-topics", USAGE, "expected snapshot FILE or check FILE");

async function watermarks() {
  const logger = createLogger({ service: "stack-topics", level: "error" });
  const admin = createKafka({ brokers: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092", clientId: "stack-topics", logger }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith("shopmesh.")).sort();
    const result = {};
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      result[topic] = offsets.reduce((sum, { high }) => sum + Number(high), 0);
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

const now = await watermarks();
if (command === "snapshot") {
  writeFileSync(file, JSON.stringify(now, null, 2));
  console.log(`stack topics: ${Object.keys(now).length} recorded`);
} else {
  const before = JSON.parse(readFileSync(file, "utf8"));
  const moved = Object.entries(now).filter(([topic, high]) => (!deadLettersOnly || topic.endsWith(".dlq")) && high !== (before[topic] ?? 0));
  for (const [topic, high] of moved) {
    const kind = topic.endsWith(".dlq") ? "new dead letters" : "messages from outside the stack";
    console.error(`  ${topic}: ${high - (before[topic] ?? 0)} ${kind}`);
  }
  if (moved.length > 0) {
    console.error(`the running stack's topics changed during the suite (${moved.length} topic(s))`);
    process.exit(1);
  }
  console.log(
    deadLettersOnly ? "stack dead-letter topics: no new dead letters" : `stack topics: ${Object.keys(now).length} unchanged, dead-letter topics included`,
  );
}
