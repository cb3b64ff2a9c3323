import { basename, dirname } from "node:path";
import type { Attributes, Context, Link, SpanKind } from "@opentelemetry/api";
import { NodeSDK, tracing } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { MySQL2Instrumentation } from "@opentelemetry/instrumentation-mysql2";
import { ATTR_DB_OPERATION_NAME, ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_MYSQL } from "@opentelemetry/semantic-conventions";

let sdk: NodeSDK | undefined;

/**
 * Root sampler: a database or cache call with no request or event around it is background
 * polling (the outbox relay every 200 ms, notification workers, sweepers); tracing each one
 * would bury the traces people look for. Everything else that starts a trace is recorded,
 * and children follow their parent's decision.
 */
export class NoBackgroundDbRootsSampler implements tracing.Sampler {
  private readonly ratio: number;
  private readonly byTraceId: tracing.Sampler;
  /** `ratio` of the other roots are recorded (by trace id, so every service agrees): 1 records all. */
  constructor(ratio = 1) {
    this.ratio = ratio;
    this.byTraceId = new tracing.TraceIdRatioBasedSampler(ratio);
  }
  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): tracing.SamplingResult {
    if (attributes[ATTR_DB_SYSTEM_NAME] !== undefined) return { decision: tracing.SamplingDecision.NOT_RECORD };
    if (this.ratio >= 1) return { decision: tracing.SamplingDecision.RECORD_AND_SAMPLED };
    return this.byTraceId.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }
  toString(): string {
    return "NoBackgroundDbRootsSampler";
  }
}

/**
 * The share of new traces recorded, from the standard variables:
 * OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG (0..1). Requests
 * that arrive with a sampled trace context are recorded whatever the ratio.
 */
export function rootSamplingRatio(env: NodeJS.ProcessEnv = process.env): number {
  if (env["OTEL_TRACES_SAMPLER"] !== "parentbased_traceidratio") return 1;
  const ratio = Number(env["OTEL_TRACES_SAMPLER_ARG"] ?? "1");
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, not ${env["OTEL_TRACES_SAMPLER_ARG"]}`);
  return ratio;
}

/**
 * Adds the stable `db.operation.name` to mysql2's spans: the instrumentation names each span
 * after the statement's verb (`SELECT`) but records it only in the span name.
 */
class DbOperationNameProcessor implements tracing.SpanProcessor {
  onStart(span: tracing.Span): void {
    if (span.attributes[ATTR_DB_SYSTEM_NAME] === DB_SYSTEM_NAME_VALUE_MYSQL && span.attributes[ATTR_DB_OPERATION_NAME] === undefined) {
      span.setAttribute(ATTR_DB_OPERATION_NAME, span.name.toUpperCase());
    }
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The service name for traces: OTEL_SERVICE_NAME, else the folder of the started script
 * (`services/<name>/dist/main.js` -> `<name>`), so `npm start`, the image and spawned test
 * processes all report as the service they are without extra configuration.
 */
export function defaultServiceName(script = process.argv[1]): string {
  const fromEnv = process.env["OTEL_SERVICE_NAME"];
  if (fromEnv) return fromEnv;
  if (script && basename(dirname(script)) === "dist") return basename(dirname(dirname(script)));
  return "shopmesh";
}

/**
 * Starts OpenTelemetry for this process: OTLP/HTTP to Jaeger (OTEL_EXPORTER_OTLP_ENDPOINT,
 * default http://127.0.0.1:4318), W3C propagation, MySQL and Redis client spans. RPC and
 * Kafka spans come from the platform's own pipeline, relay and consumer, because no
 * instrumentation covers connect-node and the outbox hop needs the stored trace context.
 * OTEL_SDK_DISABLED=true turns it off.
 */
export function startTelemetry(serviceName = defaultServiceName()): void {
  if (sdk || process.env["OTEL_SDK_DISABLED"] === "true") return;
  const endpoint = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "http://127.0.0.1:4318";
  sdk = new NodeSDK({
    serviceName,
    // Batching reads OTEL_BSP_* from the environment, as the SDK's default processor does.
    spanProcessors: [
      new DbOperationNameProcessor(),
      new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` })),
    ],
    sampler: new tracing.ParentBasedSampler({ root: new NoBackgroundDbRootsSampler(rootSamplingRatio()) }),
    instrumentations: [
      // Statements only with placeholders: bound values (emails, hashes) never reach a span.
      new MySQL2Instrumentation({ maskStatement: true }),
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
