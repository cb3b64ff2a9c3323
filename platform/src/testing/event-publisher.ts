import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { cloudEventHeaders, createIdempotentProducer, encodeEvent, newEventId } from "../kafka/events.js";
import { testKafka } from "./namespace.js";

/**
 * Publishes events into this test file's namespace the way a service's outbox relay does:
 * protobuf payload, CloudEvents binary-mode headers, the aggregate id as key (so one
 * aggregate's events share a partition, and a marker event sent after others is consumed
 * after them).
 */
export async function createEventPublisher(source = "/shopmesh/test") {
  const producer = createIdempotentProducer(testKafka("test-event-publisher"));
  await producer.connect();
  return {
    /** Sends one event and returns its id. Pass `id` to deliver an event already sent once more. */
    async publish<D extends DescMessage>(topic: string, schema: D, key: string, event: MessageShape<D>, id = newEventId()): Promise<string> {
      const payload = encodeEvent(schema, event);
      const headers = cloudEventHeaders({ id, type: schema.typeName, source, time: new Date().toISOString(), key, payload });
      await producer.send({ topic, acks: -1, messages: [{ key, value: Buffer.from(payload), headers }] });
      return id;
    },
    close: () => producer.disconnect(),
  };
}

export type EventPublisher = Awaited<ReturnType<typeof createEventPublisher>>;
