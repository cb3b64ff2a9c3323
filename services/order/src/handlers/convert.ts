import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OrderSchema, type Order } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import { createPageTokenCodec } from "@shopmesh/platform";
import { z } from "zod";
import type { OrderRecord } from "../store/orders.js";

const money = (currency: string, amountMinor: bigint) => create(MoneySchema, { currency, amountMinor });

/** Proto view of an order. */
export function toOrderProto(order: OrderRecord): Order {
  return create(OrderSchema, {
    id: order.id,
    userId: order.userId,
    status: order.status,
    lines: order.lines.map((line) => ({
      productId: line.productId,
      name: line.name,
      quantity: line.quantity,
      unitPrice: money(order.currency, line.unitPriceMinor),
      lineTotal: money(order.currency, line.lineTotalMinor),
    })),
    subtotal: money(order.currency, order.subtotalMinor),
    shippingFee: money(order.currency, order.shippingFeeMinor),
    total: money(order.currency, order.totalMinor),
    shippingAddress: order.shippingAddress,
    paymentId: order.paymentId ?? "",
    paymentStatus: order.paymentStatus,
    ...(order.refundedMinor > 0n ? { refunded: money(order.currency, order.refundedMinor) } : {}),
    deliveryId: order.deliveryId ?? "",
    cancelReason: order.cancelReason ?? "",
    createTime: timestampFromDate(order.createdAt),
    updateTime: timestampFromDate(order.updatedAt),
  });
}

/** Where the previous ListOrders page ended: newest first by (created_at, id). */
export const orderPageTokens = createPageTokenCodec("order.orders", z.object({ createdAt: z.iso.datetime().transform((at) => new Date(at)), id: z.guid() }));
