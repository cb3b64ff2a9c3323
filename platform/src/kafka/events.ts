import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { context, propagation } from "@opentelemetry/api";
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type IHeaders, type ISocketFactory, type Producer } from "kafkajs";
import { v7 as uuidv7 } from "uuid";
import type { Logger } from "../logger.js";
import type { ReadinessCheck } from "../rpc/server.js";

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

/**
 * Kafka client for a service. `topicPrefix` (KAFKA_TOPIC_PREFIX) puts every topic this client
 * touches under a namespace: code keeps using the logical names in TOPICS, the broker sees
 * `<prefix><name>`. One cluster can then host isolated environments (each test run of the
 * mesh gets its own topics, so no consumer acts on another run's events).
 */
export function createKafka(options: {
  brokers: string;
  clientId: string;
  logger: Logger;
  topicPrefix?: string;
  /** How broker connections are opened (kafkajs default: plain TCP); tests route them through a proxy they can cut. */
  socketFactory?: ISocketFactory;
}): Kafka {
  const child = options.logger.child({ component: "kafka" });
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers.split(",").map((broker) => broker.trim()),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, retries: 8 },
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
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
  return options.topicPrefix ? withTopicPrefix(kafka, options.topicPrefix) : kafka;
}

function withTopicPrefix(kafka: Kafka, prefix: string): Kafka {
  const add = (topic: string) => `${prefix}${topic}`;
  const strip = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  const prefixed = Object.create(kafka) as Kafka;
  prefixed.producer = (config) => {
    const producer = kafka.producer(config);
    return Object.assign(Object.create(producer) as Producer, {
      send: (record: Parameters<Producer["send"]>[0]) => producer.send({ ...record, topic: add(record.topic) }),
      sendBatch: (batch: Parameters<Producer["sendBatch"]>[0]) =>
        producer.sendBatch({ ...batch, topicMessages: batch.topicMessages?.map((messages) => ({ ...messages, topic: add(messages.topic) })) }),
    });
  };
  prefixed.consumer = (config) => {
    const consumer = kafka.consumer(config);
    return Object.assign(Object.create(consumer) as Consumer, {
      subscribe: (subscription: Parameters<Consumer["subscribe"]>[0]) =>
        consumer.subscribe(
          "topics" in subscription
            ? { ...subscription, topics: subscription.topics.map((topic) => (typeof topic === "string" ? add(topic) : topic)) }
            : { ...subscription, topic: typeof subscription.topic === "string" ? add(subscription.topic) : subscription.topic },
        ),
      run: (config: Parameters<Consumer["run"]>[0] = {}) =>
        consumer.run({
          ...config,
          ...(config.eachMessage ? { eachMessage: (payload) => config.eachMessage!({ ...payload, topic: strip(payload.topic) }) } : {}),
        }),
    });
  };
  prefixed.admin = (config) => {
    const admin = kafka.admin(config);
    return Object.assign(Object.create(admin) as Admin, {
      fetchTopicOffsets: (topic: string) => admin.fetchTopicOffsets(add(topic)),
      setOffsets: (request: Parameters<Admin["setOffsets"]>[0]) => admin.setOffsets({ ...request, topic: add(request.topic) }),
      fetchOffsets: async (request: Parameters<Admin["fetchOffsets"]>[0]) => {
        const result = await admin.fetchOffsets({ ...request, ...(request.topics ? { topics: request.topics.map(add) } : {}) });
        return result.map((entry) => ({ ...entry, topic: strip(entry.topic) }));
      },
      createTopics: (request: Parameters<Admin["createTopics"]>[0]) =>
        admin.createTopics({ ...request, topics: request.topics.map((topic) => ({ ...topic, topic: add(topic.topic) })) }),
      deleteTopics: (request: Parameters<Admin["deleteTopics"]>[0]) => admin.deleteTopics({ ...request, topics: request.topics.map(add) }),
    });
  };
  return prefixed;
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

/** A readiness check that holds a connection of its own; `close` releases it at shutdown. */
export interface KafkaReadiness extends ReadinessCheck {
  close(): Promise<void>;
}

/**
 * Readiness of the broker as publishing and consuming see it: a metadata round trip over the
 * client's own connections (whatever address the cluster advertises, not just the bootstrap
 * one). kafkajs reopens a dropped connection by itself on the next round. Not critical: with
 * the transactional outbox a service keeps taking requests while the broker is away (events
 * wait in the outbox, consumers catch up), so an outage shows as degraded, not as unready
 * pods that would turn a broker outage into a shop outage.
 */
export function kafkaReadiness(kafka: Kafka): KafkaReadiness {
  // No retries inside a check: the server asks again on its next round.
  const admin = kafka.admin({ retry: { retries: 0 } });
  let connected = false;
  let closed = false;
  return {
    name: "kafka",
    critical: false,
    async check() {
      if (closed) throw new Error("kafka readiness check closed");
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        await admin.describeCluster();
      } finally {
        // A round that was under way when the service closed must not leave a connection open.
        if (closed) await admin.disconnect().catch(() => undefined);
      }
    },
    async close() {
      closed = true;
      connected = false;
      await admin.disconnect();
    },
  };
}
