import { randomBytes } from "node:crypto";
import type { Logger } from "@shopmesh/platform";
import { cardOutcome, last4 } from "./cards.js";
import { newEventId, type WebhookData, type WebhookEvent, type WebhookSender } from "./webhooks.js";

export type IntentStatus = "requires_confirmation" | "processing" | "succeeded" | "failed" | "canceled";

/** A payment intent as the API shows it. Card data is never part of it. */
export interface PaymentIntent {
  id: string;
  client_secret: string;
  status: IntentStatus;
  amount_minor: number;
  currency: string;
  order_id: string;
  metadata: Record<string, string>;
  checkout_url: string;
  failure_reason: string | null;
  amount_refunded_minor: number;
  card_last4: string | null;
  created: number;
}

export interface Refund {
  id: string;
  intent_id: string;
  amount_minor: number;
  status: "succeeded";
  metadata: Record<string, string>;
  created: number;
}

/** An API error with its HTTP status and a stable code, like a real provider's. */
export class ProviderError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

export interface ProviderOptions {
  sender: WebhookSender;
  logger: Logger;
  slowCardDelayMs: number;
  /** Base URL for checkout links, known once the server listens. */
  publicUrl: () => string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const randomId = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;

/** The provider's state, in memory: intents, refunds and idempotency keys. */
export function createProvider(options: ProviderOptions) {
  const { sender, logger } = options;
  const intents = new Map<string, PaymentIntent>();
  const intentsByKey = new Map<string, { intentId: string; fingerprint: string }>();
  const refundsByKey = new Map<string, Refund>();
  const timers = new Set<NodeJS.Timeout>();

  function mustGet(id: string): PaymentIntent {
    const intent = intents.get(id);
    if (!intent) throw new ProviderError(404, "resource_missing", `no payment intent ${id}`);
    return intent;
  }

  function eventOf(type: WebhookEvent["type"], intent: PaymentIntent, created: number, extra: Partial<WebhookData> = {}): WebhookEvent {
    return {
      id: newEventId(),
      type,
      created,
      data: {
        intent_id: intent.id,
        order_id: intent.order_id,
        amount_minor: intent.amount_minor,
        currency: intent.currency,
        failure_reason: intent.failure_reason,
        metadata: intent.metadata,
        ...extra,
      },
    };
  }

  function settle(intent: PaymentIntent, outcome: ReturnType<typeof cardOutcome>): WebhookEvent {
    intent.status = outcome.result;
    intent.failure_reason = outcome.failureReason ?? null;
    logger.info({ intent_id: intent.id, status: intent.status }, "payment intent settled");
    return eventOf(outcome.result === "succeeded" ? "payment_intent.succeeded" : "payment_intent.payment_failed", intent, nowSeconds());
  }

  return {
    createIntent(input: { amountMinor: number; currency: string; orderId: string; metadata: Record<string, string>; idempotencyKey: string }): PaymentIntent {
      const fingerprint = JSON.stringify([input.amountMinor, input.currency, input.orderId]);
      const known = intentsByKey.get(input.idempotencyKey);
      if (known) {
        if (known.fingerprint !== fingerprint) {
          throw new ProviderError(409, "idempotency_key_reused", "the idempotency key was used with different parameters");
        }
        return mustGet(known.intentId);
      }
      const id = randomId("pi");
      const intent: PaymentIntent = {
        id,
        client_secret: `${id}_secret_${randomBytes(12).toString("hex")}`,
        status: "requires_confirmation",
        amount_minor: input.amountMinor,
        currency: input.currency,
        order_id: input.orderId,
        metadata: input.metadata,
        checkout_url: `${options.publicUrl()}/checkout/${id}`,
        failure_reason: null,
        amount_refunded_minor: 0,
        card_last4: null,
        created: nowSeconds(),
      };
      intents.set(id, intent);
      intentsByKey.set(input.idempotencyKey, { intentId: id, fingerprint });
      logger.info({ intent_id: id, order_id: input.orderId, amount_minor: input.amountMinor, currency: input.currency }, "payment intent created");
      return intent;
    },

    getIntent: mustGet,

    /** Applies the test-card rules; the outcome arrives by webhook (at once or after the slow-card delay). */
    confirm(id: string, cardNumber: string): PaymentIntent {
      const intent = mustGet(id);
      if (intent.status !== "requires_confirmation") {
        throw new ProviderError(409, "payment_intent_unexpected_state", `payment intent is ${intent.status}`);
      }
      const outcome = cardOutcome(cardNumber);
      intent.card_last4 = last4(cardNumber);
      intent.status = "processing";
      logger.info({ intent_id: id, card_last4: intent.card_last4 }, "payment intent confirmed");
      const processing = eventOf("payment_intent.processing", intent, nowSeconds());
      if (!outcome.delayed) {
        sender.send(id, [processing, settle(intent, outcome)]);
        return intent;
      }
      sender.send(id, [processing]);
      const timer = setTimeout(() => {
        timers.delete(timer);
        sender.send(id, [settle(intent, outcome)]);
      }, options.slowCardDelayMs);
      timers.add(timer);
      return intent;
    },

    /** Refunds a succeeded intent (the rest when `amountMinor` is absent); idempotent per intent and key. */
    refund(id: string, input: { amountMinor?: number; idempotencyKey: string; metadata: Record<string, string> }): Refund {
      const intent = mustGet(id);
      const scopedKey = `${id}:${input.idempotencyKey}`;
      const known = refundsByKey.get(scopedKey);
      if (known) return known;
      if (intent.status !== "succeeded") throw new ProviderError(409, "charge_not_refundable", `payment intent is ${intent.status}`);
      const remaining = intent.amount_minor - intent.amount_refunded_minor;
      const amount = input.amountMinor ?? remaining;
      if (amount <= 0 || amount > remaining) {
        throw new ProviderError(400, "amount_too_large", `refund of ${amount} exceeds the ${remaining} left to refund`);
      }
      intent.amount_refunded_minor += amount;
      const refund: Refund = { id: randomId("re"), intent_id: id, amount_minor: amount, status: "succeeded", metadata: input.metadata, created: nowSeconds() };
      refundsByKey.set(scopedKey, refund);
      logger.info({ intent_id: id, refund_id: refund.id, amount_minor: amount }, "refund made");
      sender.send(id, [
        eventOf("charge.refunded", intent, refund.created, {
          amount_minor: amount,
          refund_id: refund.id,
          total_refunded_minor: intent.amount_refunded_minor,
          metadata: { ...intent.metadata, ...input.metadata },
        }),
      ]);
      return refund;
    },

    /** Cancels an intent nobody confirmed yet; cancelling twice is fine. */
    cancel(id: string): PaymentIntent {
      const intent = mustGet(id);
      if (intent.status === "canceled") return intent;
      if (intent.status !== "requires_confirmation") {
        throw new ProviderError(409, "payment_intent_unexpected_state", `payment intent is ${intent.status}`);
      }
      intent.status = "canceled";
      logger.info({ intent_id: id }, "payment intent canceled");
      return intent;
    },

    close() {
      timers.forEach((timer) => clearTimeout(timer));
      timers.clear();
    },
  };
}

export type Provider = ReturnType<typeof createProvider>;
