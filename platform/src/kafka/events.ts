import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { context, propagation } from "@opentelemetry/api";
import { Kafka, logLevel, Partitioners, type IHeaders, type Producer } from "kafkajs";
import { v7 as uuidv7 } from "uuid";
import type { Logger } from "../logger.js";

/** CloudEvents Kafka protocol binding, binary mode: attributes travel as `ce_` headers. */
export const CE = {
  specversion: "ce_specversion",
  id: "ce_id",
  type: "ce_type",
  source: "ce_source",
  time: "ce_time",
  subject: "ce_subject",
  contentType: "content-type",
} as const;

export const PROTOBUF_CONTENT_TYPE = "application/protobuf";

export interface EventEnvelope {
  id: string;
  type: string;
  source: string;
  time: string;
  key: string;
  payload: Uint8Array;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

export function newEventId(): string {
  return uuidv7();
}

/** Kafka headers for an envelope, in CloudEvents binary mode plus W3C trace context. */
export function cloudEventHeaders(envelope: EventEnvelope): IHeaders {
  const headers: IHeaders = {
    [CE.specversion]: "1.0",
    [CE.id]: envelope.id,
    [CE.type]: envelope.type,
    [CE.source]: envelope.source,
    [CE.time]: envelope.time,
    [CE.subject]: envelope.key,
    [CE.contentType]: PROTOBUF_CONTENT_TYPE,
  };
  if (envelope.traceparent) headers["traceparent"] = envelope.traceparent;
  if (envelope.tracestate) headers["tracestate"] = envelope.tracestate;
  return headers;
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The current trace context as W3C header values, to store beside an event. */
export function currentTraceHeaders(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

export function encodeEvent<D extends DescMessage>(schema: D, event: MessageShape<D>): Uint8Array {
  return toBinary(schema, event);
}

export function decodeEvent<D extends DescMessage>(schema: D, payload: Uint8Array): MessageShape<D> {
  return fromBinary(schema, payload);
}

export function createKafka(options: { brokers: string; clientId: string; logger: Logger }): Kafka {
  const child = options.logger.child({ component: "kafka" });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers.split(",").map((broker) => broker.trim()),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      // Our producers bound their retries on purpose (the outbox retries the batch and
      // consumers dedupe by event id), so this advice does not apply.
      if (message.startsWith("Limiting retries for the idempotent producer")) return;
      if (entry.level <= logLevel.ERROR) child.error(rest, message);
      else child.warn(rest, message);
    },
  });
}

/** Idempotent producer with acks=all: a retried send is written once per partition. */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Java-compatible murmur2: the same key lands on the same partition as with any other client.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}
