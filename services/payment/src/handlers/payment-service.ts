import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { PaymentSchema, PaymentStatus, type Payment, type PaymentService } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import { hasRole, NotFoundError, requireCaller } from "@shopmesh/platform";
import type { Payments } from "../payments.js";
import type { PaymentRecord, PaymentStore } from "../store/payments.js";

export interface PaymentHandlerDeps {
  payments: Payments;
  store: PaymentStore;
}

function toPayment(record: PaymentRecord, options: { showClientSecret: boolean }): Payment {
  return create(PaymentSchema, {
    id: record.id,
    orderId: record.orderId,
    userId: record.userId,
    amount: create(MoneySchema, { amountMinor: record.amountMinor, currency: record.currency }),
    status: PaymentStatus[record.status],
    providerIntentId: record.providerIntentId ?? "",
    // The secret lets its holder confirm the payment: only its owner, only while it is needed.
    clientSecret: options.showClientSecret && record.status === "REQUIRES_CONFIRMATION" ? (record.clientSecret ?? "") : "",
    checkoutUrl: record.checkoutUrl ?? "",
    failureReason: record.failureReason ?? "",
    refundedAmount: create(MoneySchema, { amountMinor: record.refundedMinor, currency: record.currency }),
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
  });
}

/**
 * A payment is visible to its owner and to admins. Anyone else gets NOT_FOUND, not
 * PERMISSION_DENIED, so payment and order ids cannot be probed for existence.
 */
function visible(ctx: HandlerContext, record: PaymentRecord | undefined): Payment {
  const caller = requireCaller(ctx);
  const isOwner = record?.userId === caller.userId;
  if (!record || (!isOwner && !hasRole(caller, "admin"))) throw new NotFoundError("payment not found");
  return toPayment(record, { showClientSecret: isOwner });
}

export function createPaymentService(deps: PaymentHandlerDeps): ServiceImpl<typeof PaymentService> {
  return {
    async createPaymentIntent(request) {
      const record = await deps.payments.createIntent({
        orderId: request.orderId,
        userId: request.userId,
        amountMinor: request.amount!.amountMinor,
        currency: request.amount!.currency,
        idempotencyKey: request.idempotencyKey,
      });
      // Internal callers (order) hand the secret to the paying customer.
      return { payment: toPayment(record, { showClientSecret: true }) };
    },

    async getPayment(request, ctx) {
      return { payment: visible(ctx, await deps.store.findById(request.paymentId)) };
    },

    async getPaymentByOrder(request, ctx) {
      return { payment: visible(ctx, await deps.store.findByOrderId(request.orderId)) };
    },

    async refundPayment(request) {
      const record = await deps.payments.refund({
        paymentId: request.paymentId,
        amountMinor: request.amount?.amountMinor,
        currency: request.amount?.currency,
        reason: request.reason,
        idempotencyKey: request.idempotencyKey,
      });
      return { payment: toPayment(record, { showClientSecret: false }) };
    },
  };
}
