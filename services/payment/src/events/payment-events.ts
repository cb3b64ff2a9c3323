import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { PaymentFailedSchema, PaymentRefundedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { appendToOutbox, type PoolConnection } from "@shopmesh/platform/data";
import type { PaymentRecord } from "../store/payments.js";

const money = (amountMinor: bigint, currency: string) => create(MoneySchema, { amountMinor, currency });

// Payment events are keyed by ORDER id (docs/checkout-saga.md): order consumes them and needs
// one order's events in order on one partition.

export function appendPaymentSucceeded(connection: PoolConnection, payment: PaymentRecord, providerEventId: string, at: Date): Promise<string> {
  return appendToOutbox(connection, {
    topic: TOPICS.payment,
    key: payment.orderId,
    schema: PaymentSucceededSchema,
    event: create(PaymentSucceededSchema, {
      paymentId: payment.id,
      orderId: payment.orderId,
      userId: payment.userId,
      amount: money(payment.amountMinor, payment.currency),
      providerEventId,
      occurredTime: timestampFromDate(at),
    }),
  });
}

export function appendPaymentFailed(connection: PoolConnection, payment: PaymentRecord, providerEventId: string, reason: string, at: Date): Promise<string> {
  return appendToOutbox(connection, {
    topic: TOPICS.payment,
    key: payment.orderId,
    schema: PaymentFailedSchema,
    event: create(PaymentFailedSchema, {
      paymentId: payment.id,
      orderId: payment.orderId,
      userId: payment.userId,
      amount: money(payment.amountMinor, payment.currency),
      providerEventId,
      reason,
      occurredTime: timestampFromDate(at),
    }),
  });
}

export function appendPaymentRefunded(
  connection: PoolConnection,
  payment: PaymentRecord,
  refund: { amountMinor: bigint; totalRefundedMinor: bigint; reason: string; providerEventId: string },
  at: Date,
): Promise<string> {
  return appendToOutbox(connection, {
    topic: TOPICS.payment,
    key: payment.orderId,
    schema: PaymentRefundedSchema,
    event: create(PaymentRefundedSchema, {
      paymentId: payment.id,
      orderId: payment.orderId,
      userId: payment.userId,
      amount: money(refund.amountMinor, payment.currency),
      totalRefunded: money(refund.totalRefundedMinor, payment.currency),
      reason: refund.reason,
      providerEventId: refund.providerEventId,
      occurredTime: timestampFromDate(at),
    }),
  });
}
