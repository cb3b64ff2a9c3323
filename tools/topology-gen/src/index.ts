/** The topology's generated files: docs/ports.md, scripts/infra/topics.txt, ops/prometheus/prometheus.yml. */
export * from "./render.js";
