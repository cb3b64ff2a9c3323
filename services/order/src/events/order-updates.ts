import type { Logger } from "@shopmesh/platform";
import type { Redis } from "@shopmesh/platform/redis";

const CHANNEL = "shopmesh:order-updates";

export interface OrderUpdate {
  orderId: string;
  eventType: string;
  eventId: string;
}

/**
 * Tells WatchOrder streams on every replica that an order changed: a Redis pub/sub channel,
 * fanned out in-process by order id. Losing a message only delays a stream (it also polls).
 */
export function createOrderUpdates(publisher: Redis, subscriber: Redis, logger: Logger) {
  // Pub/sub channels are not keys, so ioredis leaves them out of REDIS_KEY_PREFIX: add it here.
  const channel = `${publisher.options.keyPrefix ?? ""}${CHANNEL}`;
  const listeners = new Map<string, Set<(update: OrderUpdate) => void>>();
  let subscribed: Promise<unknown> | undefined;

  subscriber.on("message", (_channel: string, payload: string) => {
    try {
      const update = JSON.parse(payload) as OrderUpdate;
      listeners.get(update.orderId)?.forEach((listener) => listener(update));
    } catch (err) {
      logger.warn({ err }, "bad order update message");
    }
  });

  return {
    async publish(update: OrderUpdate): Promise<void> {
      await publisher
        .publish(channel, JSON.stringify(update))
        .catch((err: Error) => logger.warn({ err: err.message }, "order update not published; watchers will poll"));
    },
    /** Calls `listener` for each update of `orderId` until the returned function is called. */
    listen(orderId: string, listener: (update: OrderUpdate) => void): () => void {
      subscribed ??= subscriber.subscribe(channel).catch((err: Error) => {
        subscribed = undefined;
        logger.warn({ err: err.message }, "order updates unavailable; watchers will poll");
      });
      const set = listeners.get(orderId) ?? new Set();
      set.add(listener);
      listeners.set(orderId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(orderId);
      };
    },
  };
}

export type OrderUpdates = ReturnType<typeof createOrderUpdates>;
