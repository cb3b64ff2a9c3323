#!/usr/bin/env node
// Writes the Envoy edge configs from the contracts:
//   node tools/envoy-gen/dist/main.js                  envoy/envoy.yaml, envoy.compose.yaml, envoy.k8s.yaml
//   node tools/envoy-gen/dist/main.js --check          exit 1 when a committed file differs from the contracts
//   node tools/envoy-gen/dist/main.js --local <file>   the local variant with this environment's port
//                                                      overrides (<NAME>_PORT, EDGE_PORT, ...), for npm start
// Options: STOREFRONT_ORIGINS (comma-separated), --rate-limit-failure-mode-deny.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describeService, loadContractServices } from "./contracts.js";
import {
  DEFAULT_STOREFRONT_ORIGINS,
  defaultVariantSettings,
  REPO_ROOT,
  renderVariant,
  upstreamPortVariables,
  variants,
  type VariantSettings,
} from "./variants.js";

async function main(args: string[]): Promise<number> {
  const services = (await loadContractServices()).map(describeService);
  const settings: VariantSettings = {
    ...defaultVariantSettings(),
    storefrontOrigins: (process.env["STOREFRONT_ORIGINS"] ?? DEFAULT_STOREFRONT_ORIGINS)
      .split(",")
      .map((origin) => origin.trim())
      .filter(Boolean),
    rateLimitFailureModeDeny: args.includes("--rate-limit-failure-mode-deny"),
  };

  const localIndex = args.indexOf("--local");
  if (localIndex >= 0) {
    const out = args[localIndex + 1];
    if (!out) throw new Error("--local needs an output file");
    const ports = new Map(settings.ports);
    for (const variable of [...Object.values(upstreamPortVariables(services)), "EDGE_PORT", "ENVOY_ADMIN_PORT"]) {
      const override = process.env[variable];
      if (override) ports.set(variable, Number(override));
    }
    const local = variants(services, { ...settings, ports }).find((variant) => variant.file === "envoy.yaml")!;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, renderVariant(local));
    return 0;
  }

  const check = args.includes("--check");
  let stale = 0;
  for (const variant of variants(services, settings)) {
    const path = join(REPO_ROOT, "envoy", variant.file);
    const text = renderVariant(variant);
    if (check) {
      let current = "";
      try {
        current = readFileSync(path, "utf8");
      } catch {
        // missing counts as stale
      }
      if (current !== text) {
        process.stderr.write(`envoy/${variant.file} is stale: run npm run envoy:generate\n`);
        stale++;
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      process.stdout.write(`wrote envoy/${variant.file}\n`);
    }
  }
  return stale > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`envoy-gen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
