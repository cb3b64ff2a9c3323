import { defineConfig } from "vite";

/**
 * Preact through esbuild's automatic JSX runtime: no Babel preset, no framework plugin.
 * SHOPMESH_EDGE_URL (or VITE_EDGE_URL) bakes in the default edge address; the static
 * server can still override it at run time through /config.js (see src/config.ts).
 */
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  define: {
    __DEFAULT_EDGE_URL__: JSON.stringify(process.env["SHOPMESH_EDGE_URL"] ?? process.env["VITE_EDGE_URL"] ?? "http://127.0.0.1:8080"),
  },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, sourcemap: true, reportCompressedSize: true },
});
