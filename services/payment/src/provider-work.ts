import { createBackgroundLoop, type BackgroundLoop, type Logger } from "@shopmesh/platform";
import { type Pool } from "@shopmesh/platform/data";
import { ProviderRejectedError, type ProviderClient } from "./clients/provider.js";
import type { PaymentRecord, PaymentStore } from "./store/payments.js";
import { refundStore } from "./store/refunds.js";

/** A refund recorded as REQUESTED, with the intent it refunds. */
export interface RefundToSend {
  id: string;
  idempotencyKey: string;
  amountMinor: bigint;
  providerIntentId: string | null;
}

export interface ProviderWork extends BackgroundLoop {
  /** Asks the provider for one recorded refund and remembers the provider's id; idempotent. */
  sendRefund(refund: RefundToSend): Promise<void>;
  /** Does what is pending now (refunds to send, intents to cancel); resolves with the number done. */
  runOnce(): Promise<number>;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * The provider calls that must follow a committed state change, made outside any database
 * transaction. What to do is durable in payment's own rows, written in the transaction of the
 * change (the outbox idea applied to the provider's API): a refund REQUESTED without a
 * provider id is sent, and the intent of a payment whose order was cancelled while it still
 * REQUIRES_CONFIRMATION is cancelled. A crash before the call loses nothing; every call is
 * idempotent at the provider, so replicas doing the same work at once are harmless. A call
 * that fails is retried with exponential backoff (per item, in this process).
 */
export function createProviderWork(deps: {
  pool: Pool;
  payments: PaymentStore;
  provider: ProviderClient;
  logger: Logger;
  intervalMs: number;
  batchSize?: number;
}): ProviderWork {
  const { pool, payments, provider, logger } = deps;
  const batchSize = deps.batchSize ?? 50;
  const backoff = new Map<string, { attempts: number; notBefore: number }>();

  async function sendRefund(refund: RefundToSend): Promise<void> {
    if (!refund.providerIntentId) throw new Error(`refund ${refund.id}: its payment has no provider intent`);
    const made = await provider.refund(refund.providerIntentId, {
      amountMinor: refund.amountMinor,
      idempotencyKey: refund.idempotencyKey,
      refundId: refund.id,
    });
    await refundStore.attachProviderRefund(pool, refund.id, made.id);
  }

  /**
   * Cancels a cancelled order's unconfirmed intent. When the customer confirmed first (409),
   * the payment waits as PROCESSING for the outcome webhook; a success is then refunded
   * because the order is cancelled.
   */
  async function cancelIntent(payment: PaymentRecord): Promise<void> {
    const intentId = payment.providerIntentId!;
    try {
      await provider.cancel(intentId);
    } catch (err) {
      if (!(err instanceof ProviderRejectedError && err.status === 409)) throw err;
      const intent = await provider.getIntent(intentId);
      if (intent.status !== "canceled") {
        await payments.moveStatus(payment.id, "REQUIRES_CONFIRMATION", "PROCESSING");
        logger.info(
          { payment_id: payment.id, order_id: payment.orderId, intent_status: intent.status },
          "intent confirmed before the order's cancellation; waiting for its outcome",
        );
        return;
      }
    }
    if (await payments.moveStatus(payment.id, "REQUIRES_CONFIRMATION", "CANCELLED", "order_cancelled")) {
      logger.info({ payment_id: payment.id, order_id: payment.orderId }, "payment cancelled with its order");
    }
  }

  /** Runs `work` for `key` unless it is backing off; returns whether it succeeded. */
  async function attempt(key: string, work: () => Promise<void>): Promise<boolean> {
    const state = backoff.get(key);
    if (state && Date.now() < state.notBefore) return false;
    try {
      await work();
      backoff.delete(key);
      return true;
    } catch (err) {
      const attempts = (state?.attempts ?? 0) + 1;
      backoff.set(key, { attempts, notBefore: Date.now() + Math.min(MAX_BACKOFF_MS, deps.intervalMs * 2 ** attempts) });
      logger.warn({ err, work: key, attempts }, "provider call failed; will retry");
      return false;
    }
  }

  async function runOnce(): Promise<number> {
    let done = 0;
    for (const refund of await refundStore.listUnsent(pool, batchSize)) {
      if (await attempt(`refund:${refund.id}`, () => sendRefund(refund))) done++;
    }
    for (const payment of await payments.listIntentsToCancel(batchSize)) {
      if (await attempt(`cancel:${payment.id}`, () => cancelIntent(payment))) done++;
    }
    return done;
  }

  const loop = createBackgroundLoop({ name: "provider work", intervalMs: deps.intervalMs, logger, round: async () => void (await runOnce()) });

  return { ...loop, sendRefund, runOnce };
}
