import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OrderSchema, type Order } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
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

/** Opaque page token: base64url of the last row's (created_at, id). */
export function encodeCursor(order: OrderRecord): string {
  return Buffer.from(JSON.stringify([order.createdAt.toISOString(), order.id])).toString("base64url");
}

export function decodeCursor(token: string): { createdAt: Date; id: string } | undefined {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as [string, string];
    const date = new Date(createdAt);
    if (typeof id !== "string" || Number.isNaN(date.getTime())) return undefined;
    return { createdAt: date, id };
  } catch {
    return undefined;
  }
}
