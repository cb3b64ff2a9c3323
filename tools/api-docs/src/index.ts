/** The API reference generator: contracts -> docs/api.md. */
export * from "./contracts.js";
export * from "./render.js";
