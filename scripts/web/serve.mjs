#!/usr/bin/env node
// A tiny static server for the built storefront (web/dist): `node scripts/web/serve.mjs`.
// 127.0.0.1:5173 by default (STOREFRONT_PORT), the origin Envoy's CORS allows by default
// (docs/edge.md, STOREFRONT_ORIGINS). SHOPMESH_EDGE_URL, when set, is handed to the page at run
// time through /config.js, so one build can talk to any edge.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "dist");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/**
 * Serves `dir` on host:port (0 = any free port); resolves with the bound origin and a close function.
 * @param {{ dir?: string, host?: string, port?: number, edgeUrl?: string }} options
 */
export function startStorefrontServer({ dir = WEB_DIST, host = "127.0.0.1", port = 5173, edgeUrl } = {}) {
  if (!existsSync(join(dir, "index.html"))) throw new Error(`no storefront build in ${dir} (run: npm run build -w web)`);
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]);
    const headers = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
    if (req.method !== "GET" && req.method !== "HEAD") return res.writeHead(405, headers).end();
    if (path === "/config.js" && edgeUrl) {
      return res
        .writeHead(200, { ...headers, "content-type": TYPES[".js"], "cache-control": "no-store" })
        .end(`window.__SHOPMESH__ = ${JSON.stringify({ edgeUrl })};\n`);
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, "index.html");
    const immutable = file.includes(`${sep}assets${sep}`);
    res.writeHead(200, {
      ...headers,
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        origin: `http://${host}:${address.port}`,
        port: address.port,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const port = Number(process.env.STOREFRONT_PORT ?? 5173);
  // STOREFRONT_HOST=0.0.0.0 in a container; loopback on a development machine.
  const host = process.env.STOREFRONT_HOST ?? "127.0.0.1";
  const { origin, close } = await startStorefrontServer({ host, port, edgeUrl: process.env.SHOPMESH_EDGE_URL });
  console.log(`storefront on ${origin}`);
  const stop = () => void close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
