#!/usr/bin/env node
// Every service's log lines for one trace, merged in time order: the one place to read what a
// request did across the mesh. The trace id is on every line written inside a request or an
// event (pino's `trace_id`), and it is the id Jaeger shows.
//   npm run logs -- --trace <trace id>                  the running stack's .shopmesh/logs/*.log
//   npm run logs -- --trace <trace id> --dir <folder>   any folder of <name>.log files (e.g. test-output/e2e/trace)
//   npm run logs -- --trace <trace id> --json           the JSON lines themselves, each with its `file`
// Exit 0 with the lines on stdout; 1 when no line carries the trace id.
import { createReadStream, existsSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { exitWithUsage, parseCommandLine } from "./lib/command-line.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = "npm run logs -- --trace <32 hex digits> [--dir <folder of *.log>] [--json]";
const JAEGER_URL = process.env.JAEGER_URL ?? `http://127.0.0.1:${process.env.JAEGER_UI_PORT ?? 16686}`;

const { values: flags } = parseCommandLine("logs", USAGE, {
  options: { trace: { type: "string" }, dir: { type: "string" }, json: { type: "boolean" } },
});
const traceId = flags.trace?.toLowerCase();
if (!traceId || !/^[0-9a-f]{32}$/.test(traceId)) exitWithUsage("logs", USAGE, traceId ? `not a trace id: ${flags.trace}` : "missing --trace");
const dir = flags.dir ?? join(ROOT, ".shopmesh", "logs");
if (!existsSync(dir)) exitWithUsage("logs", USAGE, `no log folder ${dir} (start the stack with npm start or npm run up)`);

/** The JSON lines of one file that carry the trace id; other lines (infrastructure logs, stack traces) are skipped. */
async function linesOf(file) {
  const found = [];
  const name = basename(file, ".log");
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line.includes(traceId)) continue;
    const start = line.indexOf("{");
    if (start < 0) continue;
    let entry;
    try {
      entry = JSON.parse(line.slice(start));
    } catch {
      continue;
    }
    if (entry.trace_id === traceId) found.push({ file: name, entry });
  }
  return found;
}

const files = readdirSync(dir)
  .filter((file) => file.endsWith(".log"))
  .sort();
const lines = (await Promise.all(files.map((file) => linesOf(join(dir, file))))).flat();
// Stable: lines of one process keep their order when two share a millisecond.
lines.sort((a, b) => String(a.entry.time ?? "").localeCompare(String(b.entry.time ?? "")));

if (lines.length === 0) {
  const shown = relative(process.cwd(), dir);
  process.stderr.write(`logs: no line with trace_id ${traceId} in ${shown.startsWith("..") ? dir : shown || "."}/*.log (${files.length} files)\n`);
  process.exit(1);
}
if (flags.json) {
  for (const { file, entry } of lines) process.stdout.write(`${JSON.stringify({ file, ...entry })}\n`);
} else {
  const width = Math.max(...lines.map(({ entry, file }) => String(entry.service ?? file).length));
  process.stdout.write(`trace ${traceId}: ${lines.length} lines from ${new Set(lines.map((l) => l.file)).size} services   ${JAEGER_URL}/trace/${traceId}\n`);
  for (const { file, entry } of lines) {
    const { time, level, service, msg } = entry;
    const fields = Object.entries(entry)
      .filter(([key]) => !["time", "level", "service", "msg", "trace_id"].includes(key))
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join(" ");
    process.stdout.write(
      `${time ?? "-"}  ${String(service ?? file).padEnd(width)}  ${String(level ?? "").padEnd(5)}  ${msg ?? ""}${fields ? `  ${fields}` : ""}\n`,
    );
  }
}
