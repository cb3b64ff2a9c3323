import { NodeSDK } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { MySQL2Instrumentation } from "@opentelemetry/instrumentation-mysql2";

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry for this process: OTLP/HTTP to Jaeger (OTEL_EXPORTER_OTLP_ENDPOINT,
 * default http://127.0.0.1:4318), W3C propagation, MySQL and Redis client spans. RPC and
 * Kafka spans come from the platform's own pipeline, relay and consumer, because no
 * instrumentation covers connect-node and the outbox hop needs the stored trace context.
 * OTEL_SDK_DISABLED=true turns it off.
 */
export function startTelemetry(serviceName = process.env["OTEL_SERVICE_NAME"] ?? "shopmesh"): void {
  if (sdk || process.env["OTEL_SDK_DISABLED"] === "true") return;
  const endpoint = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "http://127.0.0.1:4318";
  sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` }),
    instrumentations: [
      new MySQL2Instrumentation(),
      // Statement text can carry personal data (emails in SET/GET keys); keep only the command.
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
}

/** Flushes pending spans; called last during graceful shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
