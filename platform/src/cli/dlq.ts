/**
 * Operator command for dead letters:
 *   npm run dlq -- list <topic>                  show what is in <topic>.dlq, with the error
 *   npm run dlq -- replay <topic> [<event id>]   publish one (or every) dead letter back to <topic>
 * KAFKA_BROKERS selects the cluster (default 127.0.0.1:9092).
 */
import { createKafka } from "../kafka/events.js";
import { listDeadLetters, replayDeadLetters } from "../kafka/dead-letters.js";
import { createLogger } from "../logger.js";
import { exitWithUsage, parseCommandLine } from "./command-line.js";

const USAGE = "dlq list <topic> | dlq replay <topic> [<event id>]";
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  const { positionals } = parseCommandLine("dlq", USAGE, { allowPositionals: true });
  const [command, topic, eventId, ...extra] = positionals;
  if (command !== "list" && command !== "replay") return exitWithUsage("dlq", USAGE, command ? `unknown command ${command}` : "missing command");
  if (!topic) return exitWithUsage("dlq", USAGE, "missing topic");
  if (extra.length > 0 || (command === "list" && eventId !== undefined)) return exitWithUsage("dlq", USAGE, `unexpected argument ${extra[0] ?? eventId}`);
  const kafka = createKafka({
    brokers: process.env["KAFKA_BROKERS"] ?? "127.0.0.1:9092",
    clientId: "shopmesh-dlq",
    topicPrefix: process.env["KAFKA_TOPIC_PREFIX"] ?? "",
    logger: createLogger({ service: "dlq", level: "warn" }),
  });
  if (command === "list") {
    const letters = await listDeadLetters(kafka, topic);
    out(`${letters.length} dead letter(s) in ${topic}.dlq`);
    for (const letter of letters) {
      out(
        `${letter.partition}:${letter.offset}  ${letter.eventId ?? "-"}  ${letter.eventType ?? "-"}  key=${letter.key ?? "-"}  attempts=${letter.attempts ?? "?"}  group=${letter.consumerGroup ?? "-"}  at=${letter.deadLetteredAt ?? "-"}`,
      );
      out(`    ${letter.error ?? "(no error recorded)"}`);
    }
    return 0;
  }
  const replayed = await replayDeadLetters(kafka, topic, eventId ? { eventId } : {});
  out(`replayed ${replayed.length} event(s) to ${topic}${replayed.length ? `: ${replayed.join(", ")}` : ""}`);
  return replayed.length === 0 && eventId ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`dlq: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
