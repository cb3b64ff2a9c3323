// What each entry point of the platform loads, read in a fresh Node process from the built
// package as a service imports it: the core loads no database or broker client, so a service
// without them (cart, ratelimit) does not carry kafkajs or mysql2.
import { execFile } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const CLIENTS = ["kafkajs", "mysql2", "ioredis"];

/** The database and broker client packages loaded after importing `specifiers`, in order. */
async function clientsLoadedBy(...specifiers: string[]): Promise<string[]> {
  const script = `
    import { createRequire } from "node:module";
    for (const specifier of ${JSON.stringify(specifiers)}) await import(specifier);
    const packages = Object.keys(createRequire(import.meta.url).cache).map((path) => /node_modules\\/([^/]+)\\//.exec(path)?.[1]);
    console.log(JSON.stringify([...new Set(packages)].filter((name) => ${JSON.stringify(CLIENTS)}.includes(name)).sort()));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO_ROOT });
  return JSON.parse(stdout) as string[];
}

test("the core entry point loads no database, broker or cache client", async () => {
  expect(await clientsLoadedBy("@shopmesh/platform")).toEqual([]);
});

test("data brings MariaDB and Kafka, redis brings Redis, each only its own", async () => {
  expect(await clientsLoadedBy("@shopmesh/platform", "@shopmesh/platform/data")).toEqual(["kafkajs", "mysql2"]);
  expect(await clientsLoadedBy("@shopmesh/platform", "@shopmesh/platform/redis")).toEqual(["ioredis"]);
});

test("the cart service, which keeps its data in Redis, starts without kafkajs or mysql2", async () => {
  expect(await clientsLoadedBy(pathToFileURL(`${REPO_ROOT}/services/cart/dist/app.js`).href)).toEqual(["ioredis"]);
});
