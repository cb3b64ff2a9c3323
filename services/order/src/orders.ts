import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { PreconditionFailureSchema } from "@shopmesh/gen/google/rpc/error_details_pb.js";
import type { Cart } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { OrderPlacedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentStatus, type Payment } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import {
  errorDetail,
  FailedPreconditionError,
  isDownstreamError,
  preconditionFailure,
  PreconditionViolation,
  TOPICS,
  type Caller,
  type Logger,
} from "@shopmesh/platform";
import { appendToOutbox, withTransaction, type Pool } from "@shopmesh/platform/data";
import type { Downstreams } from "./clients/downstreams.js";
import { orderIdFor } from "./domain/ids.js";
import { priceOrder, type ShippingRule } from "./domain/pricing.js";
import { isCancellable } from "./domain/status.js";
import type { OrderUpdates } from "./events/order-updates.js";
import { transitionOrder } from "./events/transitions.js";
import { toOrderProto } from "./handlers/convert.js";
import type { OrderRecord, ShippingAddress, OrderStore } from "./store/orders.js";

export interface OrdersDeps {
  pool: Pool;
  orders: OrderStore;
  downstreams: Downstreams;
  updates: OrderUpdates;
  logger: Logger;
  shipping: ShippingRule;
  reservationTtlSeconds: number;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting. */
  onOutboxWrite: () => void;
}

export interface PlacedOrder {
  order: OrderRecord;
  payment: Payment | undefined;
}

/**
 * The order use cases that change state. PlaceOrder is the checkout saga's one synchronous
 * part (docs/checkout-saga.md): every later step belongs to the service whose data it
 * changes and follows from the events written here.
 */
export function createOrders(deps: OrdersDeps) {
  const { orders, downstreams, logger } = deps;

  /** The cart's lines, already priced by the cart against the catalog: the one read of prices. */
  function linesToOrder(cart: Cart | undefined) {
    if (!cart || cart.lines.length === 0) throw new FailedPreconditionError("the cart is empty");
    const totals = priceOrder(
      cart.lines.map((line) => ({
        productId: line.productId,
        name: line.name,
        quantity: line.quantity,
        unitPriceMinor: line.unitPrice?.amountMinor ?? 0n,
        currency: line.unitPrice?.currency ?? "",
      })),
      deps.shipping,
    );
    const unavailable = cart.lines.filter((line) => !line.inStock);
    if (unavailable.length > 0) {
      throw new FailedPreconditionError(`not available in the quantity asked: ${unavailable.map((line) => line.productId).join(", ")}`, {
        details: [
          preconditionFailure(
            PreconditionViolation.stock,
            unavailable.map((line) => ({ subject: line.productId, description: "out of stock in that quantity, or no longer sold" })),
          ),
        ],
      });
    }
    return totals;
  }

  /** Inventory's out-of-stock is the customer's to see, restated as ours with the same products. */
  async function reserve(orderId: string, lines: Array<{ productId: string; quantity: number }>) {
    try {
      const { reservation } = await downstreams.inventory.reserveStock({ orderId, items: lines, ttlSeconds: deps.reservationTtlSeconds });
      return reservation;
    } catch (err) {
      if (!isDownstreamError(err) || err.code !== Code.FailedPrecondition) throw err;
      const failures = err.findDetails(PreconditionFailureSchema);
      throw new FailedPreconditionError("some items are out of stock", { details: failures.map((failure) => errorDetail(PreconditionFailureSchema, failure)) });
    }
  }

  /**
   * A new order, written once: the cart (priced) and the customer are read in parallel, the
   * stock reserved, the payment intent opened, then the row, its lines and OrderPlaced commit
   * together. Every step is idempotent by order id, so a retry after any failure converges.
   */
  async function placeNew(orderId: string, caller: Caller, idempotencyKey: string, address: ShippingAddress): Promise<PlacedOrder> {
    const [{ cart }, { user }] = await Promise.all([downstreams.cart.getCart({}), downstreams.identity.getMe({})]);
    const totals = linesToOrder(cart);
    // The one synchronous saga step: the customer learns now whether the stock is there.
    const reservation = await reserve(
      orderId,
      totals.lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
    );
    // Opened before the row exists, so the row is written once with its payment. Should the
    // insert then fail, the retry finds this intent (one per order id); left alone, the
    // reservation expires and the intent, whose secret no one received, is never paid.
    const { payment } = await downstreams.payment.createPaymentIntent({
      orderId,
      userId: caller.userId,
      amount: { currency: totals.currency, amountMinor: totals.totalMinor },
      idempotencyKey: orderId,
    });
    const now = new Date();
    const record: OrderRecord = {
      id: orderId,
      userId: caller.userId,
      userEmail: user?.email ?? "",
      idempotencyKey,
      status: OrderStatus.PENDING,
      currency: totals.currency,
      subtotalMinor: totals.subtotalMinor,
      shippingFeeMinor: totals.shippingFeeMinor,
      totalMinor: totals.totalMinor,
      shippingAddress: address,
      paymentId: payment?.id ?? null,
      paymentStatus: PaymentStatus.UNSPECIFIED,
      refundedMinor: 0n,
      reservationExpiresAt: reservation?.expireTime ? timestampDate(reservation.expireTime) : null,
      deliveryId: null,
      cancelReason: null,
      createdAt: now,
      updatedAt: now,
      lines: totals.lines,
    };
    const inserted = await withTransaction(deps.pool, async (connection) => {
      if (!(await orders.insert(connection, record))) return false;
      const order = toOrderProto(record);
      await appendToOutbox(connection, {
        topic: TOPICS.order,
        key: orderId,
        schema: OrderPlacedSchema,
        event: create(OrderPlacedSchema, {
          orderId,
          userId: record.userId,
          userEmail: record.userEmail,
          lines: order.lines,
          subtotal: order.subtotal,
          shippingFee: order.shippingFee,
          total: order.total,
          shippingAddress: order.shippingAddress,
          occurredTime: timestampNow(),
        }),
      });
      return true;
    });
    if (!inserted) {
      // A concurrent retry of the same key wrote it first: answer with what it wrote.
      return replay((await orders.get(orderId))!);
    }
    deps.onOutboxWrite();
    logger.info({ order_id: orderId, user_id: caller.userId, lines: totals.lines.length }, "order placed");
    // The order is safe; an old cart would only confuse the customer. Best effort.
    await downstreams.cart.clearCart({}).catch((err: unknown) => logger.warn({ err, order_id: orderId }, "cart not cleared after order"));
    return { order: record, payment };
  }

  /** A retry of a placed order: the same order, and its payment (opened again only if a first attempt never got that far). */
  async function replay(order: OrderRecord): Promise<PlacedOrder> {
    if (order.status !== OrderStatus.PENDING) return { order, payment: (await downstreams.payment.getPaymentByOrder({ orderId: order.id })).payment };
    const { payment } = await downstreams.payment.createPaymentIntent({
      orderId: order.id,
      userId: order.userId,
      amount: { currency: order.currency, amountMinor: order.totalMinor },
      idempotencyKey: order.id,
    });
    return { order, payment };
  }

  return {
    /** Places the caller's cart as an order; the same idempotency key always answers with the same order. */
    async place(caller: Caller, idempotencyKey: string, address: ShippingAddress): Promise<PlacedOrder> {
      const orderId = orderIdFor(caller.userId, idempotencyKey);
      const existing = await orders.get(orderId);
      return existing ? replay(existing) : placeNew(orderId, caller, idempotencyKey, address);
    },

    /**
     * Cancels an order that has not shipped. Stock and money follow from OrderCancelled:
     * inventory releases or returns the stock, payment cancels the intent or refunds.
     */
    async cancel(order: OrderRecord, reason: string): Promise<OrderRecord> {
      if (order.status === OrderStatus.CANCELLED) return order;
      if (!isCancellable(order.status)) throw new FailedPreconditionError(`order is ${OrderStatus[order.status]} and can no longer be cancelled`);
      const eventId = await withTransaction(deps.pool, async (connection) => {
        const locked = (await orders.getForUpdate(connection, order.id))!;
        if (locked.status === OrderStatus.CANCELLED) return undefined;
        return transitionOrder(connection, orders, locked, OrderStatus.CANCELLED, reason);
      });
      if (eventId) {
        deps.onOutboxWrite();
        await deps.updates.publish({ orderId: order.id, eventType: "shopmesh.events.v1.OrderCancelled", eventId });
      }
      return (await orders.get(order.id))!;
    },
  };
}

export type Orders = ReturnType<typeof createOrders>;
