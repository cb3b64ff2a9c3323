/** The Envoy edge generator: contracts -> envoy/*.yaml. See docs/edge.md. */
export * from "./contracts.js";
export * from "./render.js";
export * from "./variants.js";
export * from "./yaml.js";
