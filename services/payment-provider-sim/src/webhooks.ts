import { randomBytes } from "node:crypto";
import type { Logger } from "@shopmesh/platform";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.js";

/** The `data` of every webhook event. */
export interface WebhookData {
  intent_id: string;
  order_id: string;
  /** The intent's amount; for `charge.refunded`, the amount of this refund. */
  amount_minor: number;
  currency: string;
  failure_reason: string | null;
  /** Echo of the metadata given when the intent (or refund) was created. */
  metadata: Record<string, string>;
  refund_id?: string;
  total_refunded_minor?: number;
}

export interface WebhookEvent {
  id: string;
  type: "payment_intent.processing" | "payment_intent.succeeded" | "payment_intent.payment_failed" | "charge.refunded";
  /** Unix seconds when the event happened (not when it was delivered). */
  created: number;
  data: WebhookData;
}

/** Test controls: how the next webhooks misbehave, as real providers sometimes do. */
export interface DeliveryBehaviour {
  /** Each event is delivered this many times (same event id). 1 is normal. */
  duplicateWebhooks: number;
  /** Events produced together (processing + outcome) are delivered newest first. */
  outOfOrder: boolean;
  /** Wait before each delivery. */
  delayMs: number;
}

export const NORMAL_BEHAVIOUR: DeliveryBehaviour = { duplicateWebhooks: 1, outOfOrder: false, delayMs: 0 };

export interface DeliveryRecord {
  event_id: string;
  type: WebhookEvent["type"];
  intent_id: string;
  /** 1-based copy number when duplicates are sent. */
  copy: number;
  attempts: number;
  status: "pending" | "delivered" | "failed";
  last_status_code: number | null;
  last_error: string | null;
}

export interface WebhookSenderOptions {
  url: string;
  secret: string;
  maxAttempts: number;
  initialBackoffMs: number;
  logger: Logger;
  behaviour: () => DeliveryBehaviour;
}

export interface WebhookSender {
  /** Queues events of one intent; one intent's deliveries happen one after another. */
  send(intentId: string, events: WebhookEvent[]): void;
  deliveries(): DeliveryRecord[];
  /** Stops retrying and waits for deliveries in flight. */
  stop(): Promise<void>;
}

export function newEventId(): string {
  return `evt_${randomBytes(12).toString("hex")}`;
}

/**
 * Delivers signed webhooks with exponential backoff until a 2xx answer or `maxAttempts`.
 * Every attempt is signed afresh with the current time, as real providers do.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { logger } = options;
  const chains = new Map<string, Promise<void>>();
  const records: DeliveryRecord[] = [];
  const stopController = new AbortController();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || stopController.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopController.signal.removeEventListener("abort", done);
        resolve();
      }
      stopController.signal.addEventListener("abort", done, { once: true });
    });

  async function deliver(event: WebhookEvent, record: DeliveryRecord, delayMs: number): Promise<void> {
    await pause(delayMs);
    const body = JSON.stringify(event);
    while (record.attempts < options.maxAttempts && !stopController.signal.aborted) {
      record.attempts++;
      try {
        const response = await fetch(options.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [SIGNATURE_HEADER]: signatureHeader(options.secret, body, Math.floor(Date.now() / 1000)),
          },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        record.last_status_code = response.status;
        await response.body?.cancel();
        if (response.ok) {
          record.status = "delivered";
          logger.info({ event_id: event.id, type: event.type, attempts: record.attempts }, "webhook delivered");
          return;
        }
        record.last_error = `HTTP ${response.status}`;
      } catch (err) {
        record.last_error = err instanceof Error ? err.message : String(err);
      }
      logger.warn({ event_id: event.id, type: event.type, attempt: record.attempts, error: record.last_error }, "webhook delivery failed");
      if (record.attempts < options.maxAttempts) await pause(options.initialBackoffMs * 2 ** (record.attempts - 1));
    }
    record.status = "failed";
    logger.error({ event_id: event.id, type: event.type, attempts: record.attempts }, "webhook given up");
  }

  return {
    send(intentId, events) {
      const behaviour = options.behaviour();
      const ordered = behaviour.outOfOrder ? [...events].reverse() : events;
      const previous = chains.get(intentId) ?? Promise.resolve();
      const next = previous.then(async () => {
        for (const event of ordered) {
          for (let copy = 1; copy <= Math.max(1, behaviour.duplicateWebhooks); copy++) {
            const record: DeliveryRecord = {
              event_id: event.id,
              type: event.type,
              intent_id: intentId,
              copy,
              attempts: 0,
              status: "pending",
              last_status_code: null,
              last_error: null,
            };
            records.push(record);
            await deliver(event, record, behaviour.delayMs);
          }
        }
      });
      chains.set(intentId, next);
      void next.finally(() => {
        if (chains.get(intentId) === next) chains.delete(intentId);
      });
    },
    deliveries: () => records.map((record) => ({ ...record })),
    async stop() {
      stopController.abort();
      await Promise.all([...chains.values()]);
    },
  };
}
