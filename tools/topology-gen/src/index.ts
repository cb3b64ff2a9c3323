/** Files generated from the topology and the telemetry registry: docs/ports.md, docs/telemetry.md, scripts/infra/topics.txt, ops/. */
export * from "./render.js";
