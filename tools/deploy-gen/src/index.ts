/** The deployment generator: topology -> k8s/ (kustomize base, dev and prod overlays) and compose.yaml. */
export * from "./files.js";
export * from "./model.js";
export * from "./render.js";
