// `npm run logs -- --trace <id>` (scripts/logs.mjs) as a process, on log folders made here.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../edge/harness.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const OTHER = "00f067aa0ba902b700f067aa0ba902b7";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function logs(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, "scripts", "logs.mjs"), ...args], (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: "info", ...fields });

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shopmesh-logs-"));
  await writeFile(
    join(dir, "order.log"),
    [
      line({ time: "2026-05-01T10:00:00.300Z", service: "order", trace_id: TRACE, span_id: "a1", msg: "order placed", order_id: "o-1" }),
      line({ time: "2026-05-01T10:00:00.100Z", service: "order", trace_id: OTHER, msg: "rpc" }),
      "a stack trace line, not JSON",
      line({ time: "2026-05-01T10:00:02.000Z", service: "order", trace_id: TRACE, msg: "order paid" }),
    ].join("\n"),
  );
  await writeFile(
    join(dir, "payment.log"),
    [line({ time: "2026-05-01T10:00:01.000Z", service: "payment", trace_id: TRACE, msg: "webhook applied", level: "warn" })].join("\n"),
  );
  // An infrastructure log that happens to mention the id is not a service's JSON line.
  await writeFile(join(dir, "kafka.log"), `[2026-05-01 10:00:00] INFO something about ${TRACE}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("when a trace id is asked for, then every service's lines of that trace come out merged in time order, and nothing else", async () => {
  const run = await logs("--trace", TRACE, "--dir", dir);
  expect(run.code).toBe(0);
  const [header, ...lines] = run.stdout.trimEnd().split("\n");
  expect(header).toContain(`trace ${TRACE}: 3 lines from 2 services`);
  expect(header).toContain(`/trace/${TRACE}`);
  expect(lines.map((text) => text.split(/\s{2,}/).slice(0, 4))).toEqual([
    ["2026-05-01T10:00:00.300Z", "order", "info", "order placed"],
    ["2026-05-01T10:00:01.000Z", "payment", "warn", "webhook applied"],
    ["2026-05-01T10:00:02.000Z", "order", "info", "order paid"],
  ]);
  expect(lines[0]).toContain("order_id=o-1");
  expect(run.stdout).not.toContain(OTHER);
});

test("when --json is given, then the lines themselves come out, each with the file it came from", async () => {
  const run = await logs("--trace", TRACE.toUpperCase(), "--dir", dir, "--json");
  expect(run.code).toBe(0);
  const entries = run.stdout
    .trimEnd()
    .split("\n")
    .map((text) => JSON.parse(text) as Record<string, unknown>);
  expect(entries.map((entry) => [entry["file"], entry["msg"], entry["trace_id"]])).toEqual([
    ["order", "order placed", TRACE],
    ["payment", "webhook applied", TRACE],
    ["order", "order paid", TRACE],
  ]);
});

test("when no line carries the trace id, then it says so and exits 1; a malformed id or flag is a usage error (exit 2)", async () => {
  const none = await logs("--trace", "ffffffffffffffffffffffffffffffff", "--dir", dir);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain("no line with trace_id ffffffffffffffffffffffffffffffff");
  expect((await logs("--trace", "not-a-trace", "--dir", dir)).code).toBe(2);
  expect((await logs("--trace", TRACE, "--dri", dir)).code).toBe(2);
  expect((await logs("--dir", dir)).code).toBe(2);
});
