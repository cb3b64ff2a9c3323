import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";

const tracer = trace.getTracer("shopmesh.platform");

const KINDS = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL, consumer: SpanKind.CONSUMER, producer: SpanKind.PRODUCER };

const recordGetter = {
  keys: (carrier: Record<string, string | undefined>) => Object.keys(carrier),
  get: (carrier: Record<string, string | undefined>, key: string) => carrier[key],
};

export interface SpanOptions {
  kind?: keyof typeof KINDS;
  attributes?: Attributes;
  /**
   * W3C trace context (`traceparent`, `tracestate`) to continue instead of the active one:
   * for work that arrives over a channel the RPC pipeline does not see (a webhook that
   * echoes the context its intent was created with).
   */
  parent?: Record<string, string | undefined>;
}

/**
 * Runs `work` inside a new span (child of `options.parent` or of the active span); the span
 * ends when `work` settles and is marked as an error when it throws. Log lines written
 * inside carry its trace and span ids. For hops no instrumentation covers (plain HTTP to
 * an external provider, webhooks); RPCs and Kafka are traced by the platform already.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: () => Promise<T>): Promise<T> {
  const parent = options.parent ? propagation.extract(context.active(), options.parent, recordGetter) : context.active();
  const span = tracer.startSpan(name, { kind: KINDS[options.kind ?? "internal"], ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `work` outside any trace: for background loops (relays, pollers) woken from inside a
 * request, whose later rounds must not all become part of that request's trace (timers
 * inherit the active context).
 */
export function outsideTrace<T>(work: () => Promise<T>): Promise<T> {
  return context.with(ROOT_CONTEXT, work);
}
