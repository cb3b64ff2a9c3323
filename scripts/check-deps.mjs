#!/usr/bin/env node
// `node scripts/check-deps.mjs`: fails on any dependency that is unpinned, undeclared or unused.
//   pinned    every package.json (the root, each workspace, bench/) names exact versions: no
//             range, tag or "latest"; "*" only for a workspace package, which npm links from here
//   locked    the lockfile resolves each pin to that very version, so `npm ci` installs it
//   declared  every import is declared by the package that makes it, and every declared
//   and used  dependency is imported or run somewhere (knip; what it cannot see is in knip.jsonc)
//   npm ls    the installed tree matches package.json and the lockfile
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandLine } from "./lib/command-line.mjs";

parseCommandLine("check-deps", "node scripts/check-deps.mjs", {});

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECTIONS = ["dependencies", "devDependencies", "optionalDependencies"];
const EXACT = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const readJson = (path) => JSON.parse(readFileSync(join(ROOT, path), "utf8"));

/** Package folders relative to the root: the workspaces (`dir` or `dir/*`) and bench/, which has a lockfile of its own. */
function packageFolders() {
  const folders = [""];
  for (const pattern of readJson("package.json").workspaces) {
    const names = pattern.endsWith("/*") ? readdirSync(join(ROOT, pattern.slice(0, -2))).map((name) => `${pattern.slice(0, -2)}/${name}`) : [pattern];
    folders.push(...names.filter((folder) => existsSync(join(ROOT, folder, "package.json"))));
  }
  return [...folders, "bench"];
}

/** The version the lockfile gives `name` as seen from `folder`: its own node_modules first, then the hoisted copy. */
function lockedVersion(lock, folder, name) {
  const nested = folder === "" || folder === "bench" ? undefined : lock.packages[`${folder}/node_modules/${name}`];
  return (nested ?? lock.packages[`node_modules/${name}`])?.version;
}

const problems = [];
const folders = packageFolders();
const workspaceNames = new Set(folders.filter((folder) => folder !== "" && folder !== "bench").map((folder) => readJson(`${folder}/package.json`).name));
const locks = { root: readJson("package-lock.json"), bench: readJson("bench/package-lock.json") };
for (const folder of folders) {
  const manifest = `${folder ? `${folder}/` : ""}package.json`;
  const lock = folder === "bench" ? locks.bench : locks.root;
  const pkg = readJson(manifest);
  for (const section of SECTIONS) {
    for (const [name, version] of Object.entries(pkg[section] ?? {})) {
      if (workspaceNames.has(name)) {
        if (version !== "*") problems.push(`${manifest}: ${section}.${name} is "${version}"; a workspace package is "*"`);
        continue;
      }
      const locked = lockedVersion(lock, folder, name);
      if (!EXACT.test(version))
        problems.push(`${manifest}: ${section}.${name} is "${version}"; pin the exact version${locked ? ` (the lockfile has ${locked})` : ""}`);
      else if (locked !== version) problems.push(`${manifest}: ${section}.${name} is ${version} but the lockfile has ${locked ?? "none"}; run npm install`);
    }
  }
}

const knip = spawnSync(join(ROOT, "node_modules/.bin/knip"), ["--dependencies", "--no-progress"], { cwd: ROOT, encoding: "utf8" });
if (knip.status !== 0) problems.push(`knip: undeclared or unused dependencies (config: knip.jsonc)\n${(knip.stdout + knip.stderr).trimEnd()}`);

const npmLs = spawnSync("npm", ["ls"], { cwd: ROOT, encoding: "utf8" });
if (npmLs.status !== 0) problems.push(`npm ls: the installed tree does not match package.json and the lockfile\n${(npmLs.stderr || npmLs.stdout).trimEnd()}`);

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`dependencies: ${folders.length} package.json files pinned and locked; every import declared, every declaration used`);
