import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, buildOverlay, installTools, INSTALL_TIMEOUT_MS, parseYamlDocuments, ROOT, run } from "./tools.js";

// An exact version tag (not latest, not a moving major) optionally followed by a digest.
const PINNED_PUBLIC =
  /^[a-z0-9.-]+(\/[a-z0-9._-]+)+:v?\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$|^[a-z0-9._-]+:v?\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/;
const OURS = /^shopmesh\/[a-z0-9-]+(:[\w.-]+)?$/;

const images = new Set<string>();

beforeAll(() => {
  installTools();
  for (const overlay of ["dev", "prod"]) {
    const { result } = buildOverlay(overlay);
    if (result.status !== 0) throw new Error(result.stderr);
    for (const object of parseYamlDocuments(result.stdout)) {
      const pod = object.spec?.template?.spec ?? object.spec?.jobTemplate?.spec?.template?.spec;
      for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) images.add(container.image);
    }
  }
  const compose = run(join(BIN, "compose-check"), ["compose.yaml"]);
  if (compose.status !== 0) throw new Error(compose.stderr);
  for (const service of Object.values((JSON.parse(compose.stdout) as { services: Record<string, { image?: string }> }).services)) {
    if (service.image) images.add(service.image);
  }
}, INSTALL_TIMEOUT_MS);

test("every image is built from our Dockerfile or is a public image pinned to an exact version", () => {
  expect(images.size).toBeGreaterThan(5);
  const loose = [...images].filter((image) => !OURS.test(image) && !PINNED_PUBLIC.test(image));
  expect(loose).toEqual([]);
});

test("the Dockerfile is multi-stage, pins its base images by digest and ends distroless, non-root, without sources", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const bases = [...dockerfile.matchAll(/^ARG NODE_\w+_IMAGE=(\S+)$/gm)].map((m) => m[1]!);
  expect(bases).toHaveLength(2);
  for (const base of bases) expect(base).toMatch(/:[\w.-]+@sha256:[0-9a-f]{64}$/);
  // Both on the Node major of .nvmrc, which the scripts and CI run on.
  const major = readFileSync(join(ROOT, ".nvmrc"), "utf8").trim().replace(/^v/, "").split(".")[0]!;
  expect(bases[0]).toMatch(new RegExp(`^node:${major}\\.[\\d.]+-bookworm-slim@`));
  expect(bases[1]).toMatch(new RegExp(`^gcr\\.io/distroless/nodejs${major}-debian12:nonroot@`));
  const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  expect(stages.length).toBeGreaterThanOrEqual(3);
  expect(stages.at(-1)).toBe("${NODE_RUNTIME_IMAGE}");
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  expect(finalStage).toMatch(/^USER 65532:65532$/m);
  expect(finalStage).toContain("COPY --from=prod-deps /out /app");
  expect(dockerfile).toMatch(/npm ci --omit=dev --workspace "services\/\$\{SERVICE\}"/);
  expect(dockerfile).toMatch(/--exclude=\.\/src/);
});

test(".dockerignore keeps installed and built trees and local state out of the build context", () => {
  const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
  for (const entry of ["**/node_modules", "**/dist", ".git", ".shopmesh"]) expect(ignored).toContain(entry);
});
