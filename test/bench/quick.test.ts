// Smoke check of the benchmark harness: `npm run bench -- --quick` runs end to end and writes
// its report. No performance target is asserted here; targets live in the benchmark's report.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "bench-quick-"));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

test("when the quick benchmark runs, then it writes its results, a markdown report with the targets, and a chart", async () => {
  const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, "bench", "run.mjs"), "--quick", "--out", outDir],
      { cwd: REPO_ROOT, timeout: 420_000, killSignal: "SIGTERM", maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
    );
  });
  expect({ code: run.code, tail: run.code === 0 ? "" : run.output.slice(-3000) }).toEqual({ code: 0, tail: "" });

  const files = await readdir(outDir);
  const json = files.find((file) => file.endsWith("-quick.json"));
  expect(json).toBeDefined();
  const results = JSON.parse(await readFile(join(outDir, json!), "utf8")) as { scenarios: Record<string, unknown>; targets: unknown[]; error?: string };
  expect(results.error).toBeUndefined();
  expect(Object.keys(results.scenarios).length).toBeGreaterThan(0);
  expect(results.targets.length).toBeGreaterThan(0);
  expect(await readFile(join(outDir, "latest.md"), "utf8")).toContain("## Targets");
  expect(await readFile(join(outDir, "chart.svg"), "utf8")).toMatch(/^<svg /);
}, 480_000);
