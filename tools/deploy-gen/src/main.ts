#!/usr/bin/env node
// Writes k8s/, compose.yaml and compose's MySQL init script from the topology (platform/src/topology.ts):
//   node tools/deploy-gen/dist/main.js           write them (and delete what a removed service left behind)
//   node tools/deploy-gen/dist/main.js --check   exit 1 naming every file that is stale, missing or no longer generated
// Reads envoy/envoy.k8s.yaml (envoy-gen) and ops/prometheus/ (topology-gen): run those generators first.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "@shopmesh/platform/cli";
import { formatGenerated, orphans, readDeployInputs } from "./files.js";
import { renderDeployFiles } from "./render.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

async function main(): Promise<number> {
  const { values: flags } = parseCommandLine("deploy-gen", "deploy-gen [--check]", { options: { check: { type: "boolean" } } });
  const check = flags.check ?? false;
  const files = renderDeployFiles(readDeployInputs(REPO_ROOT));
  const stale: string[] = [];
  let written = 0;
  for (const [path, raw] of files) {
    const text = await formatGenerated(REPO_ROOT, path, raw);
    const abs = join(REPO_ROOT, path);
    if (existsSync(abs) && readFileSync(abs, "utf8") === text) continue;
    if (check) stale.push(path);
    else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, text);
      written++;
    }
  }
  for (const path of orphans(REPO_ROOT, files)) {
    if (check) stale.push(`${path} (no longer generated)`);
    else rmSync(join(REPO_ROOT, path));
  }
  if (stale.length > 0) {
    process.stderr.write(`stale generated files (run: npm run deploy:generate):\n  ${stale.join("\n  ")}\n`);
    return 1;
  }
  if (!check) process.stdout.write(`deploy-gen: ${files.size} files under k8s/ and compose.yaml, ${written} rewritten\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`deploy-gen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
