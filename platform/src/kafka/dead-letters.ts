import { randomUUID } from "node:crypto";
import type { IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { deadLetterTopic } from "./consumer.js";
import { CE, headerString } from "./events.js";

/** One dead-lettered message as an operator sees it. */
export interface DeadLetter {
  partition: number;
  offset: string;
  eventId: string | undefined;
  eventType: string | undefined;
  key: string | undefined;
  error: string | undefined;
  attempts: number | undefined;
  consumerGroup: string | undefined;
  deadLetteredAt: string | undefined;
  message: KafkaMessage;
}

const DLQ_HEADER_PREFIX = "dlq_";

/** Reads every message currently in `<topic>.dlq` (from the beginning to the high watermark). */
export async function listDeadLetters(kafka: Kafka, topic: string, options: { timeoutMs?: number } = {}): Promise<DeadLetter[]> {
  const dlq = deadLetterTopic(topic);
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(dlq);
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return [];
  // A throwaway group: listing must not move any real consumer's position.
  const consumer = kafka.consumer({ groupId: `shopmesh.dlq-reader.${randomUUID()}` });
  const found: DeadLetter[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${dlq} timed out`)), options.timeoutMs ?? 30_000);
      const remaining = new Set(ends.keys());
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (!remaining.has(partition)) return;
            found.push(describe(partition, message));
            if (BigInt(message.offset) + 1n >= ends.get(partition)!) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return found.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

function describe(partition: number, message: KafkaMessage): DeadLetter {
  const attempts = headerString(message.headers, "dlq_attempts");
  return {
    partition,
    offset: message.offset,
    eventId: headerString(message.headers, CE.id),
    eventType: headerString(message.headers, CE.type),
    key: message.key?.toString(),
    error: headerString(message.headers, "dlq_error"),
    attempts: attempts === undefined ? undefined : Number(attempts),
    consumerGroup: headerString(message.headers, "dlq_consumer_group"),
    deadLetteredAt: headerString(message.headers, "dlq_time"),
    message,
  };
}

/**
 * Publishes dead letters back to their original topic with their original headers (and
 * the same CloudEvents id, so a consumer that did apply it after all skips it). Returns
 * the replayed event ids. `eventId` picks one; without it every dead letter is replayed.
 */
export async function replayDeadLetters(kafka: Kafka, topic: string, options: { eventId?: string } = {}): Promise<string[]> {
  const letters = (await listDeadLetters(kafka, topic)).filter((letter) => options.eventId === undefined || letter.eventId === options.eventId);
  if (letters.length === 0) return [];
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: letters.map((letter) => {
        const headers: IHeaders = {};
        for (const [name, value] of Object.entries(letter.message.headers ?? {})) {
          if (!name.startsWith(DLQ_HEADER_PREFIX) && value !== undefined) headers[name] = value;
        }
        headers["dlq_replayed_at"] = new Date().toISOString();
        return { key: letter.message.key, value: letter.message.value, headers };
      }),
    });
  } finally {
    await producer.disconnect();
  }
  return letters.map((letter) => letter.eventId ?? `${letter.partition}:${letter.offset}`);
}
