#!/usr/bin/env node
// Writes the Envoy edge configs from the contracts:
//   node tools/envoy-gen/dist/main.js                  envoy/envoy.yaml, envoy.compose.yaml, envoy.k8s.yaml
//   node tools/envoy-gen/dist/main.js --check          exit 1 when a committed file differs from the contracts
//   node tools/envoy-gen/dist/main.js --local <file>   the local variant with this environment's port
//                                                      overrides (<NAME>_PORT, EDGE_PORT, ...), for npm start
// Options: STOREFRONT_ORIGINS (comma-separated), --rate-limit-failure-mode-deny.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig, meshTlsConfig, meshTlsFiles } from "@shopmesh/platform";
import { exitWithUsage, parseCommandLine } from "@shopmesh/platform/cli";
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

const USAGE = "envoy-gen [--check | --local <file>] [--rate-limit-failure-mode-deny]";

async function main(): Promise<number> {
  const { values: flags } = parseCommandLine("envoy-gen", USAGE, {
    options: { check: { type: "boolean" }, local: { type: "string" }, "rate-limit-failure-mode-deny": { type: "boolean" } },
  });
  if (flags.check && flags.local !== undefined) exitWithUsage("envoy-gen", USAGE, "--check and --local exclude each other");
  const services = (await loadContractServices()).map(describeService);
  const settings: VariantSettings = {
    ...defaultVariantSettings(),
    storefrontOrigins: (process.env["STOREFRONT_ORIGINS"] ?? DEFAULT_STOREFRONT_ORIGINS)
      .split(",")
      .map((origin) => origin.trim())
      .filter(Boolean),
    rateLimitFailureModeDeny: flags["rate-limit-failure-mode-deny"] ?? false,
  };

  const out = flags.local;
  if (out !== undefined) {
    const ports = new Map(settings.ports);
    for (const variable of [...Object.values(upstreamPortVariables(services)), "EDGE_PORT", "ENVOY_ADMIN_PORT"]) {
      const override = process.env[variable];
      if (override) ports.set(variable, Number(override));
    }
    const local = variants(services, { ...settings, ports }).find((variant) => variant.file === "envoy.yaml")!;
    // Mutual TLS to the services when this environment names Envoy's mesh certificate (MESH_*, as a service reads them).
    const meshTls = meshTlsFiles(loadConfig(meshTlsConfig, process.env));
    if (meshTls) local.options = { ...local.options, meshTls };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, renderVariant(local));
    return 0;
  }

  const check = flags.check ?? false;
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

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`envoy-gen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
