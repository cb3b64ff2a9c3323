import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { createBackgroundLoop, type Logger } from "@shopmesh/platform";
import { withTransaction, type Pool } from "@shopmesh/platform/data";
import type { OrderUpdates } from "./events/order-updates.js";
import { transitionOrder } from "./events/transitions.js";
import type { OrderStore } from "./store/orders.js";

/**
 * Cancels orders whose payment did not complete within the window. Their stock is released
 * (and an unconfirmed payment cancelled) by inventory and payment on the OrderCancelled it
 * writes. Replicas share the work: rows are claimed with SKIP LOCKED.
 */
export function createUnpaidOrderSweeper(deps: {
  pool: Pool;
  orders: OrderStore;
  updates: OrderUpdates;
  logger: Logger;
  paymentWindowSeconds: number;
  intervalMs: number;
  onOutboxWrite: () => void;
  /** The service's clock; tests pass one that can be moved past the payment window. */
  now?: () => Date;
}) {
  const clock = deps.now ?? (() => new Date());

  async function sweepOnce(): Promise<number> {
    const cutoff = new Date(clock().getTime() - deps.paymentWindowSeconds * 1000);
    const cancelled = await withTransaction(deps.pool, async (connection) => {
      const ids = await deps.orders.claimUnpaid(connection, cutoff, 50);
      const done: Array<{ id: string; eventId: string }> = [];
      for (const id of ids) {
        const order = (await deps.orders.getForUpdate(connection, id))!;
        done.push({ id, eventId: await transitionOrder(connection, deps.orders, order, OrderStatus.CANCELLED, "payment_timeout") });
      }
      return done;
    });
    if (cancelled.length > 0) {
      deps.onOutboxWrite();
      for (const { id, eventId } of cancelled) await deps.updates.publish({ orderId: id, eventType: "shopmesh.events.v1.OrderCancelled", eventId });
      deps.logger.info({ count: cancelled.length }, "unpaid orders cancelled");
    }
    return cancelled.length;
  }

  const loop = createBackgroundLoop({
    name: "unpaid order sweep",
    intervalMs: deps.intervalMs,
    logger: deps.logger,
    round: async () => void (await sweepOnce()),
  });
  return { sweepOnce, start: () => loop.start(), stop: () => loop.stop() };
}
