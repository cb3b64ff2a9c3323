import { v7 as uuidv7 } from "uuid";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, type Logger } from "@shopmesh/platform";
import { isDuplicateKey, withTransaction, type Pool, type PoolConnection } from "@shopmesh/platform/data";
import { capturePostings, refundPostings } from "./domain/ledger.js";
import { decideProviderEvent, isRefundable } from "./domain/payment-status.js";
import { appendPaymentFailed, appendPaymentRefunded, appendPaymentSucceeded } from "./events/payment-events.js";
import type { ProviderClient } from "./clients/provider.js";
import type { ProviderWork } from "./provider-work.js";
import { postLedgerGroup } from "./store/ledger.js";
import type { PaymentRecord, PaymentStore } from "./store/payments.js";
import { providerEventStore } from "./store/provider-events.js";
import { refundStore } from "./store/refunds.js";

/** A provider webhook event after signature check and shape validation. */
export interface ProviderWebhookEvent {
  id: string;
  type: string;
  created: number;
  data: {
    intent_id: string;
    order_id: string;
    amount_minor: number;
    currency: string;
    failure_reason: string | null;
    metadata: Record<string, string>;
    refund_id?: string | undefined;
  };
}

export type WebhookOutcome = "applied" | "duplicate" | "ignored";

export interface PaymentsDeps {
  pool: Pool;
  payments: PaymentStore;
  provider: ProviderClient;
  logger: Logger;
  /** Called after a commit that wrote outbox rows. */
  onOutboxWrite: () => void;
  /** Provider calls that follow a commit: refunds to send, intents to cancel. */
  providerWork: Pick<ProviderWork, "sendRefund" | "nudge">;
}

/** The reason a refund caused by the order's cancellation carries. */
const cancellationRefundReason = (orderCancelReason: string | null) => `order cancelled: ${orderCancelReason || "cancelled"}`.slice(0, 500);

/**
 * The payment use cases shared by the RPC handlers, the webhook route and the OrderCancelled
 * consumer. Every state change, its ledger entries and its events commit together; provider
 * calls happen outside those transactions (before them, or after them through providerWork).
 */
export function createPayments(deps: PaymentsDeps) {
  const { pool, payments, provider, logger } = deps;

  /**
   * Records a refund request (idempotent per payment and key) under the payment's row lock.
   * Returns the refund to send, or undefined when nothing is left to refund.
   */
  async function recordRefund(
    connection: PoolConnection,
    payment: PaymentRecord,
    request: { amountMinor: bigint | undefined; reason: string; idempotencyKey: string; skipStatusCheck?: boolean },
  ) {
    const existing = await refundStore.findByKey(connection, payment.id, request.idempotencyKey);
    if (existing) return existing;
    if (!request.skipStatusCheck && !isRefundable(payment.status))
      throw new FailedPreconditionError(`payment is ${payment.status}; only a succeeded payment can be refunded`);
    const remaining = payment.amountMinor - (await refundStore.committedMinor(connection, payment.id));
    const amountMinor = request.amountMinor ?? remaining;
    if (amountMinor <= 0n) return undefined;
    if (amountMinor > remaining) throw new FailedPreconditionError(`refund of ${amountMinor} exceeds the ${remaining} left to refund`);
    const refund = {
      id: uuidv7(),
      paymentId: payment.id,
      idempotencyKey: request.idempotencyKey,
      amountMinor,
      reason: request.reason,
      status: "REQUESTED" as const,
      providerRefundId: null,
    };
    await refundStore.insert(connection, refund);
    return refund;
  }

  return {
    /**
     * One payment and one provider intent per order, however often this is called. The row
     * is written before the provider call, so a crash in between is finished by the retry.
     */
    async createIntent(input: { orderId: string; userId: string; amountMinor: bigint; currency: string; idempotencyKey: string }): Promise<PaymentRecord> {
      let payment = await payments.findByOrderId(input.orderId);
      if (!payment) {
        const now = new Date();
        const record: PaymentRecord = {
          id: uuidv7(),
          orderId: input.orderId,
          userId: input.userId,
          idempotencyKey: input.idempotencyKey,
          amountMinor: input.amountMinor,
          currency: input.currency,
          status: "REQUIRES_CONFIRMATION",
          providerIntentId: null,
          clientSecret: null,
          checkoutUrl: null,
          failureReason: null,
          refundedMinor: 0n,
          orderCancelledAt: null,
          orderCancelReason: null,
          createdAt: now,
          updatedAt: now,
        };
        try {
          await payments.insert(pool, record);
          payment = record;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          payment = await payments.findByOrderId(input.orderId); // a concurrent call created it
        }
        if (!payment) throw new Error(`payment of order ${input.orderId} vanished`);
      }
      if (payment.userId !== input.userId || payment.amountMinor !== input.amountMinor || payment.currency !== input.currency) {
        throw new AlreadyExistsError("the order already has a payment with a different user or amount");
      }
      if (!payment.providerIntentId && payment.status === "REQUIRES_CONFIRMATION") {
        const intent = await provider.createIntent({
          orderId: payment.orderId,
          paymentId: payment.id,
          amountMinor: payment.amountMinor,
          currency: payment.currency,
        });
        await payments.attachIntent(payment.id, intent);
        payment = (await payments.findById(payment.id))!;
        logger.info({ payment_id: payment.id, order_id: payment.orderId, provider_intent_id: intent.id }, "payment intent created");
      }
      return payment;
    },

    /**
     * Applies one verified webhook event exactly once: the provider event id is recorded in
     * the same transaction as its effect, and the state machine ignores stale events.
     */
    async applyWebhook(event: ProviderWebhookEvent): Promise<WebhookOutcome> {
      let wroteOutbox = false;
      let refundRecorded = false;
      const outcome = await withTransaction(pool, async (connection): Promise<WebhookOutcome> => {
        if (!(await providerEventStore.claim(connection, { id: event.id, type: event.type, intentId: event.data.intent_id }))) return "duplicate";
        const record = (text: string) => providerEventStore.recordOutcome(connection, event.id, text);
        const metadataPaymentId = event.data.metadata["payment_id"];
        const payment =
          (await payments.lockByIntentId(connection, event.data.intent_id)) ??
          (metadataPaymentId ? await payments.lockById(connection, metadataPaymentId) : undefined);
        if (!payment || (payment.providerIntentId !== null && payment.providerIntentId !== event.data.intent_id)) {
          logger.warn({ event_id: event.id, type: event.type, provider_intent_id: event.data.intent_id }, "webhook for an unknown payment ignored");
          await record("ignored: unknown payment");
          return "ignored";
        }
        const decision = decideProviderEvent(payment, {
          type: event.type,
          amountMinor: BigInt(event.data.amount_minor),
          currency: event.data.currency,
          failureReason: event.data.failure_reason,
        });
        const at = new Date(event.created * 1000);
        switch (decision.kind) {
          case "ignore":
            logger.info({ event_id: event.id, type: event.type, payment_id: payment.id, reason: decision.reason }, "webhook ignored");
            await record(`ignored: ${decision.reason}`);
            return "ignored";
          case "processing":
            await payments.updateStatus(connection, payment.id, { status: "PROCESSING" });
            break;
          case "succeeded":
            await payments.updateStatus(connection, payment.id, { status: "SUCCEEDED" });
            await postLedgerGroup(connection, {
              paymentId: payment.id,
              currency: payment.currency,
              movement: "capture",
              providerEventId: event.id,
              postings: capturePostings(payment.amountMinor),
            });
            await appendPaymentSucceeded(connection, payment, event.id, at);
            wroteOutbox = true;
            if (payment.orderCancelledAt) {
              // The money came in after the order was cancelled (or its reservation expired): give it back.
              await recordRefund(connection, payment, {
                amountMinor: undefined,
                reason: cancellationRefundReason(payment.orderCancelReason),
                idempotencyKey: payment.orderId,
                skipStatusCheck: true,
              });
              refundRecorded = true;
              logger.warn({ payment_id: payment.id, order_id: payment.orderId }, "payment succeeded after its order was cancelled; refund requested");
            }
            break;
          case "failed":
            await payments.updateStatus(connection, payment.id, { status: "FAILED", failureReason: decision.reason });
            await appendPaymentFailed(connection, payment, event.id, decision.reason, at);
            wroteOutbox = true;
            break;
          case "refunded": {
            let refund = await refundStore.findForWebhook(connection, payment.id, event.data.metadata["refund_id"], event.data.refund_id);
            if (refund?.status === "SUCCEEDED") {
              await record("ignored: refund already applied");
              return "ignored";
            }
            if (!refund) {
              // Refunded at the provider directly (its dashboard): still real money, so book it.
              refund = {
                id: uuidv7(),
                paymentId: payment.id,
                idempotencyKey: (event.data.refund_id ?? event.id).slice(0, 64),
                amountMinor: decision.amountMinor,
                reason: "refunded at the provider",
                status: "REQUESTED",
                providerRefundId: null,
              };
              await refundStore.insert(connection, refund);
            }
            await refundStore.markSucceeded(connection, refund.id, event.data.refund_id ?? event.id);
            await payments.updateStatus(connection, payment.id, { status: decision.status, refundedMinor: decision.totalRefundedMinor });
            await postLedgerGroup(connection, {
              paymentId: payment.id,
              currency: payment.currency,
              movement: "refund",
              providerEventId: event.id,
              postings: refundPostings(decision.amountMinor),
            });
            await appendPaymentRefunded(
              connection,
              payment,
              { amountMinor: decision.amountMinor, totalRefundedMinor: decision.totalRefundedMinor, reason: refund.reason, providerEventId: event.id },
              at,
            );
            wroteOutbox = true;
            break;
          }
        }
        await record(`applied: ${decision.kind}`);
        logger.info({ event_id: event.id, type: event.type, payment_id: payment.id, order_id: payment.orderId, effect: decision.kind }, "webhook applied");
        return "applied";
      });
      if (wroteOutbox) deps.onOutboxWrite();
      if (refundRecorded) deps.providerWork.nudge();
      return outcome;
    },

    /**
     * Operator refund (RefundPayment). The money moves when the provider's charge.refunded
     * webhook arrives; until then the refund is REQUESTED and counts against what is left.
     */
    async refund(input: {
      paymentId: string;
      amountMinor: bigint | undefined;
      currency: string | undefined;
      reason: string;
      idempotencyKey: string;
    }): Promise<PaymentRecord> {
      const { payment, refund } = await withTransaction(pool, async (connection) => {
        const payment = await payments.lockById(connection, input.paymentId);
        if (!payment) throw new NotFoundError("payment not found");
        if (input.currency !== undefined && input.currency !== payment.currency) throw new InvalidArgumentError(`refund currency must be ${payment.currency}`);
        const refund = await recordRefund(connection, payment, { amountMinor: input.amountMinor, reason: input.reason, idempotencyKey: input.idempotencyKey });
        if (!refund) throw new FailedPreconditionError("nothing is left to refund");
        return { payment, refund };
      });
      if (refund.status === "REQUESTED" && !refund.providerRefundId) {
        if (!payment.providerIntentId) throw new FailedPreconditionError("payment has no provider intent");
        await deps.providerWork.sendRefund({ ...refund, providerIntentId: payment.providerIntentId });
      }
      return (await payments.findById(payment.id))!;
    },

    /**
     * OrderCancelled, inside the consumer's transaction: remember the cancellation on the
     * payment, and record a refund of what was captured (idempotency key = order id). No
     * provider call happens here: providerWork sends the refund, or cancels an intent nobody
     * confirmed, after the commit. A payment still PROCESSING waits for its outcome webhook; a
     * success then is refunded because the order is cancelled. Returns whether provider work
     * was recorded.
     */
    async onOrderCancelled(connection: PoolConnection, orderId: string, reason: string): Promise<boolean> {
      const payment = await payments.lockByOrderId(connection, orderId);
      if (!payment) return false;
      await payments.markOrderCancelled(connection, payment.id, reason);
      switch (payment.status) {
        case "SUCCEEDED":
        case "PARTIALLY_REFUNDED": {
          const refund = await recordRefund(connection, payment, { amountMinor: undefined, reason: cancellationRefundReason(reason), idempotencyKey: orderId });
          if (refund) logger.info({ payment_id: payment.id, order_id: orderId }, "refund requested for a cancelled order");
          return refund !== undefined;
        }
        case "REQUIRES_CONFIRMATION":
          // With an intent, providerWork cancels it; without one (still being created) it does once it is attached.
          return payment.providerIntentId !== null;
        default:
          return false;
      }
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
