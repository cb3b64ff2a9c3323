import { v5 as uuidv5 } from "uuid";

/** Namespace for order ids (a fixed random UUID; changing it would change every id). */
const ORDER_NAMESPACE = "3b1f8f1e-5f0a-4c55-9a53-7a0f6c2d9e41";

/**
 * The order id is a function of who placed it and their idempotency key. Two concurrent
 * PlaceOrder calls with the same key therefore reserve stock and create the payment intent
 * for the same id (both callees are idempotent by order id), and only one order row exists.
 */
export function orderIdFor(userId: string, idempotencyKey: string): string {
  return uuidv5(`${userId}:${idempotencyKey}`, ORDER_NAMESPACE);
}
