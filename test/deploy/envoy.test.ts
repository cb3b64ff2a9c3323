import { existsSync } from "node:fs";
import { join } from "node:path";
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
