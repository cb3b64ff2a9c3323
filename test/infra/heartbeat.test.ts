// The heartbeat of scripts/infra/lib.sh, which scripts/infra/install.sh runs around its
// multi-minute builds and downloads: a line with the elapsed time while a step runs, and none
// once it has ended, whether it succeeded or failed and took the script down with it.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../deploy/tools.js";

interface Run {
  code: number | null;
  stdout: string[];
  stderr: string[];
  /** From the script's exit until every copy of its stdout and stderr was closed. */
  closedAfterExitMs: number;
}

/** Runs a bash script that sources lib.sh, as install.sh does, with a one-second heartbeat. */
function runWithLib(body: string): Promise<Run> {
  const script = ["set -euo pipefail", `. ${JSON.stringify(join(ROOT, "scripts/infra/lib.sh"))}`, "trap heartbeat_stop EXIT", body].join("\n");
  const child = spawn("bash", ["-c", script], { cwd: ROOT, env: { ...process.env, SHOPMESH_HEARTBEAT_SECONDS: "1" } });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => stdout.push(...chunk.toString().split("\n").filter(Boolean)));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(...chunk.toString().split("\n").filter(Boolean)));
  let exitedAt = 0;
  child.once("exit", () => (exitedAt = Date.now()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr, closedAfterExitMs: Date.now() - exitedAt })));
}

test("when a step outlasts the interval, then a line with its elapsed time appears, and none after the step ended", async () => {
  // The marker shares stderr with the heartbeat, so the order of the lines is the order of events.
  const run = await runWithLib('with_heartbeat "slow step" sleep 2.5\necho "step ended" >&2\nsleep 1.5');
  expect(run.code).toBe(0);
  const end = run.stderr.indexOf("step ended");
  expect(end).toBeGreaterThan(0);
  for (const line of run.stderr.slice(0, end)) expect(line).toMatch(/^\d\d:\d\d:\d\d \[infra\] slow step: still working, \ds elapsed$/);
  expect(run.stderr.slice(end + 1)).toEqual([]);
});

test("when the step fails under set -e, then the script exits with its status and the heartbeat ends with it, holding no output open", async () => {
  const run = await runWithLib('with_heartbeat "failing build" bash -c "sleep 2.5; exit 3"\necho "not reached"');
  expect(run.code).toBe(3);
  expect(run.stdout).toEqual([]);
  expect(run.stderr.some((line) => line.includes("failing build: still working"))).toBe(true);
  // A heartbeat (or its sleep) left behind would keep the pipes open for up to a second more.
  expect(run.closedAfterExitMs).toBeLessThan(500);
});

test("when a step is a condition, then its failure is returned, not fatal", async () => {
  const run = await runWithLib('with_heartbeat "lock wait" false || echo "returned $?"');
  expect(run.code).toBe(0);
  expect(run.stdout).toEqual(["returned 1"]);
});
