import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { OrderStatus, type OrderService } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { createWakeup, hasRole, NotFoundError, requireCaller, ResourceExhaustedError, type Caller } from "@shopmesh/platform";
import { isTerminal } from "../domain/status.js";
import type { OrderUpdates } from "../events/order-updates.js";
import type { Orders } from "../orders.js";
import type { OrderRecord, OrderStore } from "../store/orders.js";
import { orderPageTokens, toOrderProto } from "./convert.js";

export interface OrderDeps {
  /** The use cases that change orders (../orders.ts). */
  useCases: Orders;
  orders: OrderStore;
  updates: OrderUpdates;
  /**
   * A WatchOrder stream reads the order when an update message says it changed (pushed through
   * Redis); this long fallback re-read only covers a message lost while Redis was away.
   */
  watchPollMs: number;
  /** Live WatchOrder streams one customer may hold on this replica. */
  maxWatchesPerUser: number;
}

const ADMIN = "admin";
const DEFAULT_PAGE_SIZE = 20;

/** Customers see only their own orders; for others' orders the answer is NOT_FOUND (no existence leak). */
function assertVisible(order: OrderRecord | undefined, caller: Caller, id: string): OrderRecord {
  if (!order || (order.userId !== caller.userId && !hasRole(caller, ADMIN))) throw new NotFoundError(`order ${id} not found`);
  return order;
}

export function createOrderService(deps: OrderDeps): ServiceImpl<typeof OrderService> {
  const { orders, useCases } = deps;

  /** Live streams per user: a customer cannot hold the replica's memory and connections hostage. */
  const watching = new Map<string, number>();

  async function* watch(orderId: string, ctx: HandlerContext) {
    const caller = requireCaller(ctx);
    const held = watching.get(caller.userId) ?? 0;
    if (held >= deps.maxWatchesPerUser) throw new ResourceExhaustedError(`at most ${deps.maxWatchesPerUser} live order views at once; close one first`);
    watching.set(caller.userId, held + 1);
    try {
      yield* watchVisible(orderId, caller, ctx);
    } finally {
      const left = (watching.get(caller.userId) ?? 1) - 1;
      if (left > 0) watching.set(caller.userId, left);
      else watching.delete(caller.userId);
    }
  }

  async function* watchVisible(orderId: string, caller: Caller, ctx: HandlerContext) {
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
      const address = request.shippingAddress!;
      const { order, payment } = await useCases.place(requireCaller(ctx), request.idempotencyKey, {
        recipientName: address.recipientName,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        postalCode: address.postalCode,
        countryCode: address.countryCode,
        phone: address.phone,
      });
      return { order: toOrderProto(order), ...(payment ? { payment } : {}) };
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
      const order = assertVisible(await orders.get(request.orderId), requireCaller(ctx), request.orderId);
      return { order: toOrderProto(await useCases.cancel(order, request.reason || "cancelled by customer")) };
    },

    watchOrder(request, ctx) {
      return watch(request.orderId, ctx);
    },
  };
}
