#!/usr/bin/env node
// `npm run chaos [-- --quick] [-- --rate N] [-- --only TEXT]`: the fault matrix against the
// real local mesh (--only: just the faults whose name contains TEXT).
// Brings up the infrastructure (Toxiproxy included) and the builds, then runs the matrix
// (test/chaos/matrix.chaos.ts) in one jest process, printing a progress line per step.
// Results: chaos/results/<date>.json and chaos/results/latest.md.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { exitWithUsage, parseCommandLine } from "./lib/command-line.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const USAGE = "npm run chaos [-- --quick] [-- --rate N] [-- --only TEXT]";
const { values: flags } = parseCommandLine("chaos", USAGE, {
  options: { quick: { type: "boolean" }, rate: { type: "string" }, only: { type: "string" } },
});
const quick = flags.quick ?? false;
const { rate, only } = flags;
if (rate !== undefined && !(Number(rate) > 0)) exitWithUsage("chaos", USAGE, "--rate needs a positive number of checkouts per second");

function run(step, command, commandArgs, env = {}) {
  console.error(`==> ${step}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`${step} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

run("infrastructure", "bash", ["scripts/infra/up.sh"]);
run("build", "npx", ["tsc", "-b", "tsconfig.build.json"]);
run(`fault matrix (${quick ? "quick" : "full"})`, "npx", ["jest", "--ci", "--runInBand", "--testMatch", "**/test/chaos/matrix.chaos.ts"], {
  NODE_OPTIONS: "--experimental-vm-modules --no-warnings=ExperimentalWarning",
  CHAOS_QUICK: quick ? "1" : "0",
  ...(rate ? { CHAOS_RATE: rate } : {}),
  ...(only ? { CHAOS_ONLY: only } : {}),
});
console.error(only ? "==> filtered run: its table is above, its JSON in chaos/results/" : "==> report: chaos/results/latest.md");
