/**
 * Preload for every service process: `node --import @shopmesh/platform/telemetry dist/main.js`.
 * The ESM loader hook lets instrumentations patch mysql2 and ioredis even though services
 * import them as ES modules; it must run before any of them is loaded.
 */
import { register } from "node:module";
import { startTelemetry } from "./sdk.js";

if (process.env["OTEL_SDK_DISABLED"] !== "true") {
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  startTelemetry();
}
