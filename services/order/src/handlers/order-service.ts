import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampNow } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { OrderPlacedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderStatus, type OrderService } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentStatus, type Payment } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import {
  appendToOutbox,
  createWakeup,
  FailedPreconditionError,
  hasRole,
  NotFoundError,
  requireCaller,
  TOPICS,
  withTransaction,
  type Caller,
  type Logger,
  type Pool,
} from "@shopmesh/platform";
import type { Downstreams } from "../clients/downstreams.js";
import { orderIdFor } from "../domain/ids.js";
import { priceOrder, type ShippingRule } from "../domain/pricing.js";
import { isCancellable, isTerminal } from "../domain/status.js";
import type { OrderUpdates } from "../events/order-updates.js";
import { transitionOrder } from "../events/transitions.js";
import type { OrderRecord, OrderStore } from "../store/orders.js";
import { orderPageTokens, toOrderProto } from "./convert.js";

export interface OrderDeps {
  pool: Pool;
  orders: OrderStore;
  downstreams: Downstreams;
  updates: OrderUpdates;
  logger: Logger;
  shipping: ShippingRule;
  reservationTtlSeconds: number;
  /** How often a WatchOrder stream re-reads the order when no update message arrives. */
  watchPollMs: number;
  onOutboxWrite: () => void;
}

const ADMIN = "admin";
const DEFAULT_PAGE_SIZE = 20;

/** Customers see only their own orders; for others' orders the answer is NOT_FOUND (no existence leak). */
function assertVisible(order: OrderRecord | undefined, caller: Caller, id: string): OrderRecord {
  if (!order || (order.userId !== caller.userId && !hasRole(caller, ADMIN))) throw new NotFoundError(`order ${id} not found`);
  return order;
}

export function createOrderService(deps: OrderDeps): ServiceImpl<typeof OrderService> {
  const { orders, downstreams, logger } = deps;

  /** Reserves, prices and records a new order. Safe to repeat: every step is idempotent by order id. */
  async function createOrder(orderId: string, caller: Caller, idempotencyKey: string, address: OrderRecord["shippingAddress"]): Promise<void> {
    const { cart } = await downstreams.cart.getCart({});
    if (!cart || cart.lines.length === 0) throw new FailedPreconditionError("the cart is empty");
    const { products, missingIds } = await downstreams.catalog.batchGetProducts({ ids: cart.lines.map((line) => line.productId) });
    if (missingIds.length > 0) throw new FailedPreconditionError(`products no longer exist: ${missingIds.join(", ")}`);
    const byId = new Map(products.map((product) => [product.id, product]));
    const items = cart.lines.map((line) => {
      const product = byId.get(line.productId);
      if (!product || !product.active) throw new FailedPreconditionError(`product ${line.productId} is no longer sold`);
      return {
        productId: product.id,
        name: product.name,
        quantity: line.quantity,
        unitPriceMinor: product.price?.amountMinor ?? 0n,
        currency: product.price?.currency ?? "",
      };
    });
    const totals = priceOrder(items, deps.shipping);
    const { user } = await downstreams.identity.getMe({});
    // The one synchronous saga step: the customer learns now whether the stock is there.
    const { reservation } = await downstreams.inventory.reserveStock({
      orderId,
      items: totals.lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
      ttlSeconds: deps.reservationTtlSeconds,
    });
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
      paymentId: null,
      paymentStatus: PaymentStatus.UNSPECIFIED,
      refundedMinor: 0n,
      reservationExpiresAt: reservation?.expireTime ? timestampDate(reservation.expireTime) : null,
      deliveryId: null,
      cancelReason: null,
      createdAt: new Date(),
      updatedAt: new Date(),
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
    if (inserted) {
      deps.onOutboxWrite();
      logger.info({ order_id: orderId, user_id: caller.userId, lines: totals.lines.length }, "order placed");
    }
  }

  async function ensurePayment(order: OrderRecord): Promise<Payment | undefined> {
    if (order.status !== OrderStatus.PENDING && order.paymentId) return (await downstreams.payment.getPaymentByOrder({ orderId: order.id })).payment;
    const { payment } = await downstreams.payment.createPaymentIntent({
      orderId: order.id,
      userId: order.userId,
      amount: { currency: order.currency, amountMinor: order.totalMinor },
      idempotencyKey: order.id,
    });
    if (payment && payment.id !== order.paymentId) {
      await withTransaction(deps.pool, (connection) => orders.update(connection, order.id, { paymentId: payment.id }));
    }
    return payment;
  }

  async function* watch(orderId: string, ctx: HandlerContext) {
    const caller = requireCaller(ctx);
    let current = assertVisible(await orders.get(orderId), caller, orderId);
    yield { order: toOrderProto(current), eventType: "snapshot", eventId: "", occurredTime: timestampNow() };
    let pending: { eventType: string; eventId: string } | undefined;
    // An update that lands while the loop reads the order still ends the next wait at once.
    const wakeup = createWakeup();
    const stop = deps.updates.listen(orderId, (update) => {
      pending = { eventType: update.eventType, eventId: update.eventId };
      wakeup.nudge();
    });
    try {
      while (!ctx.signal.aborted && !isTerminal(current.status)) {
        await wakeup.wait(deps.watchPollMs, ctx.signal);
        if (ctx.signal.aborted) break;
        const next = await orders.get(orderId);
        if (!next) break;
        const changed = next.updatedAt.getTime() !== current.updatedAt.getTime() || next.status !== current.status || next.deliveryId !== current.deliveryId;
        const update = pending;
        pending = undefined;
        if (!changed) continue;
        current = next;
        yield { order: toOrderProto(current), eventType: update?.eventType ?? "poll", eventId: update?.eventId ?? "", occurredTime: timestampNow() };
      }
    } finally {
      stop();
    }
  }

  return {
    async placeOrder(request, ctx) {
      const caller = requireCaller(ctx);
      const orderId = orderIdFor(caller.userId, request.idempotencyKey);
      const address = request.shippingAddress!;
      let order = await orders.get(orderId);
      if (!order) {
        await createOrder(orderId, caller, request.idempotencyKey, {
          recipientName: address.recipientName,
          line1: address.line1,
          line2: address.line2,
          city: address.city,
          postalCode: address.postalCode,
          countryCode: address.countryCode,
          phone: address.phone,
        });
        order = (await orders.get(orderId))!;
        // The order is safe; an old cart would only confuse the customer. Best effort.
        await downstreams.cart.clearCart({}).catch((err: unknown) => logger.warn({ err, order_id: orderId }, "cart not cleared after order"));
      }
      const payment = await ensurePayment(order);
      return { order: toOrderProto((await orders.get(orderId))!), ...(payment ? { payment } : {}) };
    },

    async getOrder(request, ctx) {
      const order = assertVisible(await orders.get(request.orderId), requireCaller(ctx), request.orderId);
      return { order: toOrderProto(order) };
    },

    async listOrders(request, ctx) {
      const caller = requireCaller(ctx);
      const admin = hasRole(caller, ADMIN);
      if (request.userId && !admin && request.userId !== caller.userId) throw new NotFoundError("no orders for that user");
      const limit = request.pageSize || DEFAULT_PAGE_SIZE;
      const userId = admin ? request.userId || undefined : caller.userId;
      const scope = [userId ?? "", request.status];
      const after = orderPageTokens.decode(request.pageToken, scope);
      const page = await orders.list({
        ...(userId ? { userId } : {}),
        ...(request.status !== OrderStatus.UNSPECIFIED ? { status: request.status } : {}),
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const { items, nextPageToken } = orderPageTokens.page(page, limit, (last) => ({ createdAt: last.createdAt.toISOString(), id: last.id }), scope);
      return { orders: items.map(toOrderProto), nextPageToken };
    },

    async cancelOrder(request, ctx) {
      const caller = requireCaller(ctx);
      const order = assertVisible(await orders.get(request.orderId), caller, request.orderId);
      if (order.status === OrderStatus.CANCELLED) return { order: toOrderProto(order) };
      if (!isCancellable(order.status)) throw new FailedPreconditionError(`order is ${OrderStatus[order.status]} and can no longer be cancelled`);
      const reason = request.reason || "cancelled by customer";
      // Stock and money follow from OrderCancelled: inventory releases or returns the stock,
      // payment cancels the intent or refunds.
      const eventId = await withTransaction(deps.pool, async (connection) => {
        const locked = (await orders.getForUpdate(connection, order.id))!;
        if (locked.status === OrderStatus.CANCELLED) return undefined;
        return transitionOrder(connection, orders, locked, OrderStatus.CANCELLED, reason);
      });
      if (eventId) {
        deps.onOutboxWrite();
        await deps.updates.publish({ orderId: order.id, eventType: "shopmesh.events.v1.OrderCancelled", eventId });
      }
      return { order: toOrderProto((await orders.get(order.id))!) };
    },

    watchOrder(request, ctx) {
      return watch(request.orderId, ctx);
    },
  };
}
