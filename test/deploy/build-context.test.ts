// `docker build` without an engine: BuildKit's context rules applied far enough to prove that
// every image compose and Kubernetes use finds its inputs. The context is a fresh clone's files
// less what the applicable .dockerignore drops (Docker's matching, by @balena/dockerignore);
// each Dockerfile is read by dockerfile-ast and walked stage by stage with the build arguments
// compose passes, keeping track of which context files each stage has copied so far (by their
// context path: every COPY here keeps it, and the walk says so when one does not).
import { existsSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import dockerignore from "@balena/dockerignore";
import { Arg, Copy, DockerfileParser, From, Run, type Instruction } from "dockerfile-ast";
import ts from "typescript";
import { parse, parseAllDocuments } from "yaml";
import { repositoryFiles, ROOT } from "./tools.js";

// Its types declare an ES default export; the CommonJS module is that function itself.
const ignore = dockerignore as unknown as typeof dockerignore.default;

/** One image build as compose declares it. */
interface Build {
  image: string;
  context: string;
  dockerfile: string;
  args: Record<string, string>;
}

/** A RUN step and the context files its stage had copied when it ran. */
interface RunStep {
  command: string;
  mounts: string[];
  copied: ReadonlySet<string>;
}

/** What walking one Dockerfile found. */
interface Walk {
  /** COPY/ADD sources the context does not provide, each with the reason. */
  missing: string[];
  runs: RunStep[];
}

interface Stage {
  name: string | undefined;
  workdir: string;
  copied: Set<string>;
}

const REPOSITORY = repositoryFiles();

/**
 * The files `docker build` sends for a context directory: BuildKit reads `<Dockerfile>.dockerignore`
 * beside the Dockerfile when there is one, otherwise `<context>/.dockerignore`.
 */
function contextFiles(build: Build): { files: Set<string>; ignoreFile: string | undefined } {
  const under = build.context === "." ? REPOSITORY : REPOSITORY.filter((path) => path.startsWith(`${build.context}/`));
  const relative = under.map((path) => posix.relative(build.context, path));
  const ignoreFile = [`${build.dockerfile}.dockerignore`, posix.join(build.context, ".dockerignore")].find((path) => existsSync(join(ROOT, path)));
  if (!ignoreFile) return { files: new Set(relative), ignoreFile };
  const rules = ignore().add(readFileSync(join(ROOT, ignoreFile), "utf8"));
  return { files: new Set(relative.filter((path) => !rules.ignores(path))), ignoreFile };
}

/** A COPY source as Go's filepath.Match reads it (`*`, `?` and `[...]` within one path segment). */
function sourcePattern(source: string): RegExp {
  const normalized = posix.normalize(source).replace(/^\.\/?|\/$/g, "");
  if (normalized === "" || normalized === ".") return /^/;
  const body = normalized
    .split("")
    .map((char) => (char === "*" ? "[^/]*" : char === "?" ? "[^/]" : /[[\]]/.test(char) ? char : char.replace(/[.+^${}()|\\]/g, "\\$&")))
    .join("");
  // A matched directory brings everything under it.
  return new RegExp(`^${body}(/|$)`);
}

const matching = (files: Iterable<string>, source: string) => [...files].filter((path) => sourcePattern(source).test(path));

/**
 * Whether a COPY puts its files at their own context paths under WORKDIR (`COPY web web`,
 * `COPY --parents <globs> ./`, `COPY lock ./`, `COPY a/b.mjs a/`): files are tracked by that path.
 */
function keepsPath(source: string, destination: string, parents: boolean): boolean {
  const to = posix.normalize(destination).replace(/\/$/, "");
  const from = posix.normalize(source).replace(/\/$/, "");
  if (parents || !from.includes("/")) return to === "." || to === from;
  return to === from || (destination.endsWith("/") && to === posix.dirname(from));
}

/** `${NAME}` and `$NAME` replaced by the build's values; unknown names become empty, as in Docker. */
function expand(text: string, values: Record<string, string | undefined>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => values[(braced ?? bare)!] ?? "");
}

/** Walks a Dockerfile's stages as BuildKit would for one build, without running anything. */
function walkDockerfile(build: Build, context: Set<string>): Walk {
  const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, build.dockerfile), "utf8"));
  const values: Record<string, string | undefined> = {};
  const declare = (instruction: Arg) => {
    const property = instruction.getProperty();
    if (property) values[property.getName()] = build.args[property.getName()] ?? property.getValue() ?? undefined;
  };
  const stages: Stage[] = [];
  const missing: string[] = [];
  const runs: RunStep[] = [];
  let stage: Stage | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (instruction instanceof Arg) declare(instruction);
    else if (instruction instanceof From) {
      const base = stages.find((s) => s.name !== undefined && s.name === expand(instruction.getImageName() ?? "", values));
      stage = {
        name: instruction.getBuildStage() ?? undefined,
        workdir: base?.workdir ?? "/",
        copied: new Set(base?.copied),
      };
      stages.push(stage);
    } else if (!stage) {
      continue;
    } else if (keyword === "WORKDIR") {
      stage.workdir = posix.resolve(stage.workdir, expand(instruction.getArgumentsContent() ?? "", values));
    } else if (instruction instanceof Copy || keyword === "ADD") {
      copy(instruction, stage);
    } else if (instruction instanceof Run) {
      const mounts = instruction
        .getFlags()
        .filter((flag) => flag.getName() === "mount")
        .map((flag) => flag.getValue() ?? "");
      runs.push({ command: expand(instruction.getArgumentsContent() ?? "", values), mounts, copied: new Set(stage.copied) });
    }
  }
  return { missing, runs };

  function copy(instruction: Instruction, into: Stage): void {
    const flags = (instruction as Copy).getFlags();
    const flag = (name: string) => flags.filter((f) => f.getName() === name).map((f) => expand(f.getValue() ?? "", values));
    const [from] = flag("from");
    const excluded = flag("exclude");
    const args = instruction.getArguments().map((argument) => expand(argument.getValue(), values));
    const sources = args.slice(0, -1);
    const destination = args.at(-1)!;
    if (from !== undefined) {
      // From another stage: what the context put there must have been copied into it (build output is not checked).
      const source = stages.find((s) => s.name === from);
      if (!source) return; // an image, not a stage
      for (const path of sources) {
        const relative = posix.relative(source.workdir, path);
        if (relative.startsWith("..") || relative.split("/").some((segment) => segment === "dist" || segment === "node_modules")) continue;
        if (matching(source.copied, relative).length === 0) missing.push(`${instruction.getKeyword()} --from=${from} ${path}: never copied into stage ${from}`);
      }
      return;
    }
    const parents = flags.some((f) => f.getName() === "parents");
    for (const source of sources) {
      if (!keepsPath(source, destination, parents)) {
        missing.push(`${instruction.getKeyword()} ${source} ${destination}: lands elsewhere than its own path, which this test assumes`);
      }
      const found = matching(context, source).filter((path) => !excluded.some((pattern) => sourcePattern(pattern).test(path)));
      if (found.length === 0) {
        const inRepository = matching(REPOSITORY, posix.join(build.context, source)).length > 0;
        missing.push(`${instruction.getKeyword()} ${source}: ${inRepository ? "excluded from the build context by .dockerignore" : "not in the repository"}`);
      }
      for (const path of found) into.copied.add(path);
    }
  }
}

/** Every image compose builds, with its build arguments. */
function composeBuilds(): Build[] {
  const compose = parse(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as {
    services: Record<string, { image?: string; build?: { context?: string; dockerfile?: string; args?: Record<string, string> } }>;
  };
  return Object.entries(compose.services).flatMap(([name, service]) =>
    service.build
      ? [
          {
            image: service.image ?? name,
            context: posix.normalize(service.build.context ?? "."),
            dockerfile: posix.join(service.build.context ?? ".", service.build.dockerfile ?? "Dockerfile"),
            args: service.build.args ?? {},
          },
        ]
      : [],
  );
}

/** Every value of an `image` key (and kustomize `images[].name`) in the Kubernetes manifests. */
function kubernetesImages(): string[] {
  const images = new Set<string>();
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) node.forEach((item) => visit(item, key === "images" ? "images" : undefined));
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "image" && typeof v === "string") images.add(v);
        else if (key === "images" && k === "name" && typeof v === "string") images.add(v);
        else visit(v, k);
      }
    }
  };
  for (const path of REPOSITORY.filter((p) => p.startsWith("k8s/") && /\.ya?ml$/.test(p))) {
    for (const document of parseAllDocuments(readFileSync(join(ROOT, path), "utf8"))) visit(document.toJS());
  }
  return [...images];
}

const repository = (image: string) => image.replace(/@.*$/, "").replace(/:[^/]*$/, "");

/** The root manifest's workspaces, as folders that hold a package.json. */
function workspaces(): Map<string, string> {
  const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { workspaces: string[] };
  const byName = new Map<string, string>();
  for (const pattern of root.workspaces) {
    for (const manifest of REPOSITORY.filter((path) => sourcePattern(`${pattern}/package.json`).test(path))) {
      const { name } = JSON.parse(readFileSync(join(ROOT, manifest), "utf8")) as { name: string };
      byName.set(name, posix.dirname(manifest));
    }
  }
  return byName;
}

const WORKSPACES = workspaces();

/** What `npm ci` reads: the root manifest, the lock, the project's .npmrc and every workspace's manifest. */
const NPM_CI_INPUTS = [
  "package.json",
  "package-lock.json",
  ...(REPOSITORY.includes(".npmrc") ? [".npmrc"] : []),
  ...[...WORKSPACES.values()].map((dir) => `${dir}/package.json`),
];

/** A workspace folder and every workspace it depends on, by its manifests. */
function workspaceClosure(dir: string, seen = new Set<string>()): Set<string> {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
  for (const name of Object.keys({ ...manifest["dependencies"], ...manifest["devDependencies"] })) {
    const other = WORKSPACES.get(name);
    if (other) workspaceClosure(other, seen);
  }
  return seen;
}

/**
 * The TypeScript projects a build step compiles, and the workspaces it builds: `tsc -b <dir>`,
 * and `npm run build --workspace <dir>` (that workspace's build script: its `tsc -p`, and vite).
 */
function compiledBy(command: string): { projects: string[]; workspaces: string[] } {
  const projects: string[] = [];
  const built: string[] = [];
  for (const match of command.matchAll(/\btsc\s+-b\s+"?([^\s"&;|]+)"?/g)) {
    projects.push(posix.normalize(match[1]!));
    built.push(posix.normalize(match[1]!));
  }
  for (const match of command.matchAll(/\bnpm run build (?:--workspace|-w)[ =]"?([^\s"&;|]+)"?/g)) {
    const dir = posix.normalize(match[1]!);
    built.push(dir);
    const script = (JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts?.["build"] ?? "";
    for (const tsc of script.matchAll(/\btsc\s+-[pb]\s+([^\s&;|]+)/g)) projects.push(posix.join(dir, tsc[1]!));
  }
  return { projects, workspaces: built };
}

/**
 * Parses a TypeScript project the way the compiler would inside the image, seeing only `files`,
 * and follows its `extends` and project references. Returns what the image would lack.
 */
function projectGaps(project: string, files: ReadonlySet<string>, seen = new Set<string>()): string[] {
  const configPath = project.endsWith(".json") ? project : posix.join(project, "tsconfig.json");
  if (seen.has(configPath)) return [];
  seen.add(configPath);
  const inside = (path: string) => files.has(posix.relative(ROOT, path));
  const visible = (path: string) => !posix.relative(ROOT, path).startsWith("..") && inside(path);
  const host: ts.ParseConfigHost = {
    useCaseSensitiveFileNames: true,
    fileExists: (path) => visible(path) && ts.sys.fileExists(path),
    readFile: (path) => (visible(path) ? ts.sys.readFile(path) : undefined),
    readDirectory: (root, extensions, excludes, includes, depth) => ts.sys.readDirectory(root, extensions, excludes, includes, depth).filter(visible),
  };
  const absolute = join(ROOT, configPath);
  if (!inside(absolute)) return [`${configPath}: not in the image`];
  const parsedIn = (parseHost: ts.ParseConfigHost) => {
    const { config, error } = ts.readConfigFile(absolute, parseHost.readFile);
    if (error) return { errors: [error], fileNames: [], references: [] };
    const parsed = ts.parseJsonConfigFileContent(config, parseHost, posix.dirname(absolute), undefined, absolute);
    return { errors: parsed.errors, fileNames: parsed.fileNames, references: parsed.projectReferences ?? [] };
  };
  const image = parsedIn(host);
  const repository = parsedIn(ts.sys);
  const gaps = [
    ...image.errors.map((error) => `${configPath}: ${ts.flattenDiagnosticMessageText(error.messageText, " ")}`),
    ...repository.fileNames
      .filter((name) => !image.fileNames.includes(name))
      .map((name) => `${posix.relative(ROOT, name)}: compiled by ${configPath}, not in the image`),
  ];
  for (const reference of image.references) gaps.push(...projectGaps(posix.relative(ROOT, reference.path), files, seen));
  return gaps;
}

const BUILDS = composeBuilds();
const CONTEXTS = new Map(BUILDS.map((build) => [build.image, contextFiles(build)]));
const WALKS = new Map(BUILDS.map((build) => [build.image, walkDockerfile(build, CONTEXTS.get(build.image)!.files)]));
const byImage = BUILDS.map((build) => [build.image, build] as const);

describe("which images are built", () => {
  test("when compose and Kubernetes name our images, then compose builds every one of them, from a Dockerfile in the repository", () => {
    const built = new Set(BUILDS.map((build) => repository(build.image)));
    const ours = kubernetesImages().filter((image) => image.startsWith("shopmesh/"));
    expect(ours.length).toBeGreaterThan(5);
    expect([...new Set(ours.map(repository))].filter((image) => !built.has(image))).toEqual([]);
    expect(BUILDS.filter((build) => !REPOSITORY.includes(build.dockerfile)).map((build) => build.dockerfile)).toEqual([]);
  });

  test("when the repository holds Dockerfiles, then compose builds each of them, so each is checked here", () => {
    const dockerfiles = REPOSITORY.filter((path) => /(^|\/)Dockerfile$/.test(path));
    expect(dockerfiles.length).toBeGreaterThan(0);
    expect(dockerfiles.filter((path) => !BUILDS.some((build) => build.dockerfile === path))).toEqual([]);
  });

  test("when services/ holds a service, then compose builds its image from the root Dockerfile with SERVICE set to it", () => {
    const folders = [...WORKSPACES.values()].filter((dir) => dir.startsWith("services/")).map((dir) => dir.slice("services/".length));
    const built = BUILDS.filter((build) => build.dockerfile === "Dockerfile").map((build) => build.args["SERVICE"]);
    expect(folders.filter((folder) => !built.includes(folder))).toEqual([]);
  });
});

describe.each(byImage)("the image %s", (image, build) => {
  const { files, ignoreFile } = CONTEXTS.get(image)!;
  const { missing, runs } = WALKS.get(image)!;
  const installs = runs.filter((run) => /\bnpm ci\b/.test(run.command));

  test("when its Dockerfile copies from the build context, then every source is in the repository and not dropped by .dockerignore", () => {
    expect(ignoreFile).toBeDefined();
    expect(missing).toEqual([]);
  });

  test("when it runs npm ci, then the lock and every workspace manifest are there, copied before the sources, with npm's cache in a BuildKit cache mount", () => {
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) {
      expect({ command: install.command, missing: NPM_CI_INPUTS.filter((path) => !install.copied.has(path)) }).toEqual({
        command: install.command,
        missing: [],
      });
      expect({ command: install.command, mounts: install.mounts }).toEqual({
        command: install.command,
        mounts: expect.arrayContaining([expect.stringMatching(/^type=cache,(.*,)?target=\/root\/\.npm(,|$)/)]),
      });
    }
    // Layer caching: the first install sees only manifests, so a source edit does not invalidate it.
    expect([...installs[0]!.copied].filter((path) => !NPM_CI_INPUTS.includes(path))).toEqual([]);
  });

  test("when it compiles, then every TypeScript project and every workspace it builds, with the workspaces they depend on, is whole in the image", () => {
    const steps = runs.map((run) => ({ run, ...compiledBy(run.command) })).filter((step) => step.workspaces.length > 0);
    expect(steps.length).toBeGreaterThan(0);
    for (const { run, projects, workspaces: built } of steps) {
      const gaps = projects.flatMap((project) => projectGaps(project, run.copied));
      const needed = [...new Set(built.flatMap((dir) => [...workspaceClosure(dir)]))];
      for (const dir of needed) {
        gaps.push(
          ...REPOSITORY.filter((path) => path.startsWith(`${dir}/`) && !run.copied.has(path)).map((path) => `${path}: in workspace ${dir}, not in the image`),
        );
      }
      expect({ command: run.command, gaps }).toEqual({ command: run.command, gaps: [] });
    }
  });

  test("when its build context is listed, then it holds no installed or built trees, local state or secrets", () => {
    const unwanted = [...files].filter((path) => /(^|\/)(node_modules|dist|\.git|\.shopmesh|test-output)(\/|$)|(^|\/)\.env/.test(path));
    expect(unwanted).toEqual([]);
    expect(build.context).toBe(".");
  });
});
