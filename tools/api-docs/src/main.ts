#!/usr/bin/env node
// Writes the API reference from the contracts (buf build of proto/, comments included):
//   node tools/api-docs/dist/main.js           docs/api.md
//   node tools/api-docs/dist/main.js --check   exit 1 when the committed docs/api.md differs
import { readFileSync, writeFileSync } from "node:fs";
import { parseCommandLine } from "@shopmesh/platform/cli";
import { format, resolveConfig } from "prettier";
import { loadContractFiles, REPO_ROOT } from "./contracts.js";
import { renderApiDoc } from "./render.js";

const OUTPUT = "docs/api.md";

async function main(): Promise<number> {
  const { values: flags } = parseCommandLine("api-docs", "api-docs [--check]", { options: { check: { type: "boolean" } } });
  const path = `${REPO_ROOT}${OUTPUT}`;
  // Laid out by the repository's prettier, so `prettier --check` and this check agree.
  const text = await format(renderApiDoc(loadContractFiles()), { ...(await resolveConfig(path)), parser: "markdown" });
  if (!flags.check) {
    writeFileSync(path, text);
    process.stdout.write(`wrote ${OUTPUT}\n`);
    return 0;
  }
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // missing counts as stale
  }
  if (current === text) return 0;
  process.stderr.write(`${OUTPUT} is stale: run npm run docs:generate\n`);
  return 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`api-docs: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
