#!/usr/bin/env node
// Writes the files generated from the topology (platform/src/topology.ts) and the telemetry registry (platform/src/telemetry/schema.ts):
//   node tools/topology-gen/dist/main.js           docs/ports.md, docs/telemetry.md, scripts/infra/topics.txt, ops/ (Prometheus configs, dashboards)
//   node tools/topology-gen/dist/main.js --check   exit 1 naming every committed file that differs
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "@shopmesh/platform/cli";
import { generatedFiles } from "./render.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function main(): number {
  const { values: flags } = parseCommandLine("topology-gen", "topology-gen [--check]", { options: { check: { type: "boolean" } } });
  const check = flags.check ?? false;
  let stale = 0;
  for (const file of generatedFiles()) {
    const path = join(REPO_ROOT, file.path);
    if (check) {
      let current = "";
      try {
        current = readFileSync(path, "utf8");
      } catch {
        // missing counts as stale
      }
      if (current !== file.text) {
        process.stderr.write(`${file.path} is stale: run npm run topology:generate\n`);
        stale++;
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.text);
      process.stdout.write(`wrote ${file.path}\n`);
    }
  }
  return stale > 0 ? 1 : 0;
}

process.exitCode = main();
