import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { meshTlsEnv } from "@shopmesh/platform";
import { createMeshCa } from "@shopmesh/platform/pki";
import { BIN, ROOT, run } from "./tools.js";

const ENVOY = join(BIN, "envoy");

// Envoy itself is installed by scripts/infra/install.sh (npm test runs it before jest).
describe.each(["envoy/envoy.k8s.yaml", "envoy/envoy.compose.yaml", "k8s/base/edge/envoy.yaml"])("%s", (file) => {
  test("is accepted by envoy --mode validate", () => {
    expect(existsSync(ENVOY)).toBe(true);
    expect(existsSync(join(ROOT, file))).toBe(true);
    const result = run(ENVOY, ["--mode", "validate", "-c", file, "-l", "error"], { timeoutMs: 120_000 });
    expect(result.stdout + result.stderr).toContain("OK");
    expect(result.status).toBe(0);
  });
});

test("the local edge with mesh TLS to the services (npm start's) is accepted by envoy --mode validate", () => {
  const dir = mkdtempSync(join(tmpdir(), "envoy-mesh-"));
  try {
    const envoyFiles = createMeshCa(dir).issue("envoy");
    const file = join(dir, "envoy.yaml");
    const rendered = run(process.execPath, [join(ROOT, "tools/envoy-gen/dist/main.js"), "--local", file], {
      env: meshTlsEnv(envoyFiles),
    });
    expect(rendered.status).toBe(0);
    const config = readFileSync(file, "utf8");
    expect(config).toContain("spiffe://shopmesh.local/service/inventory");
    expect(config).toContain("spiffe://shopmesh.local/service/ratelimit");
    const result = run(ENVOY, ["--mode", "validate", "-c", file, "-l", "error"], { timeoutMs: 120_000 });
    expect(result.stdout + result.stderr).toContain("OK");
    expect(result.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
