import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

/** The repository root (jest runs from it). */
export const ROOT = process.cwd();
export const TOOLS = process.env["SHOPMESH_TOOLS"] ?? join(process.env["HOME"] ?? "/root", ".cache/shopmesh/tools");
export const BIN = join(TOOLS, "bin");
/** The Kubernetes version whose schemas every rendered object must satisfy. */
export const K8S_VERSION = "1.33.0";
/** First install downloads and compiles (a few minutes); afterwards it is a no-op. */
export const INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws, so a test can assert on the output it failed with. */
export function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: "utf8",
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...options.env, PATH: `${BIN}:${process.env["PATH"] ?? ""}` },
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: (result.stderr ?? "") + (result.error ? String(result.error) : "") };
}

/** What a fresh clone holds: the tracked files, plus new ones git does not ignore (repository paths, sorted). */
export function repositoryFiles(): string[] {
  const result = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ls-files failed: ${result.stderr}`);
  return [...new Set(result.stdout.split("\0"))].filter((path) => path !== "" && existsSync(join(ROOT, path))).sort();
}

/** Installs kustomize, kubernetes-validate and compose-check if missing (scripts/k8s/install-tools.sh). */
export function installTools(): void {
  const result = run("bash", ["scripts/k8s/install-tools.sh"], { timeoutMs: INSTALL_TIMEOUT_MS });
  if (result.status !== 0) throw new Error(`scripts/k8s/install-tools.sh failed:\n${result.stdout}\n${result.stderr}`);
}

/** A Kubernetes object as rendered, loosely typed for assertions. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  [key: string]: unknown;
}

/** Parses multi-document YAML (such as `kustomize build` output); empty documents are skipped. */
export function parseYamlDocuments(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`YAML parse failed: ${document.errors.map((error) => error.message).join("; ")}`);
    const object = document.toJS() as K8sObject | null;
    if (object !== null) objects.push(object);
  }
  return objects;
}

/** `kustomize build` of one overlay, written to a temp file for tools that take paths. */
export function buildOverlay(overlay: string): { result: RunResult; file: string } {
  const result = run(join(BIN, "kustomize"), ["build", `k8s/overlays/${overlay}`]);
  const file = join(mkdtempSync(join(tmpdir(), "shopmesh-k8s-")), `${overlay}.yaml`);
  writeFileSync(file, result.stdout);
  return { result, file };
}
