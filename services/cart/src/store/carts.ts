import type { Logger } from "@shopmesh/platform";
import type { Redis } from "@shopmesh/platform/redis";
import { UnavailableError } from "@shopmesh/platform";
import type { AddedSnapshot, StoredCart, StoredLine } from "../domain/cart.js";

/**
 * One Redis hash per cart, `cart:{<userId>}` (the braces keep a cart in one cluster slot):
 *   qty:<productId>   units in the line
 *   line:<productId>  JSON of the product as first added (name, image, unit price)
 *   pos:<productId>   insertion order
 *   meta:count        number of lines
 *   meta:seq          last position handed out
 *   meta:currency     the currency every line is priced in
 *   meta:updated      epoch ms of the last change
 * Every change runs as one Lua script, so concurrent requests never lose an update and the
 * limits are checked against the state the change applies to (no read-modify-write in Node).
 * Every write refreshes the key's TTL.
 */
export const cartKey = (userId: string) => `cart:{${userId}}`;

/** KEYS[1] cart; ARGV: productId, units to add, max per line, max lines, ttl s, now ms, currency, line JSON, available units. */
const ADD_ITEM = `
local key = KEYS[1]
local pid = ARGV[1]
local add = tonumber(ARGV[2])
local maxQty = tonumber(ARGV[3])
local maxLines = tonumber(ARGV[4])
local currency = ARGV[7]
local available = tonumber(ARGV[9])
local current = tonumber(redis.call('HGET', key, 'qty:' .. pid) or '0')
local count = tonumber(redis.call('HGET', key, 'meta:count') or '0')
if current == 0 and count >= maxLines then return {'TOO_MANY_LINES', count} end
local cartCurrency = redis.call('HGET', key, 'meta:currency')
if count > 0 and cartCurrency and cartCurrency ~= currency then return {'CURRENCY_MISMATCH', cartCurrency} end
if current + add > maxQty then return {'LINE_FULL', current} end
if current + add > available then return {'SHORT_OF_STOCK', current} end
if current == 0 then
  local pos = redis.call('HINCRBY', key, 'meta:seq', 1)
  redis.call('HINCRBY', key, 'meta:count', 1)
  redis.call('HSET', key, 'line:' .. pid, ARGV[8], 'pos:' .. pid, pos, 'meta:currency', currency)
end
local total = redis.call('HINCRBY', key, 'qty:' .. pid, add)
redis.call('HSET', key, 'meta:updated', ARGV[6])
redis.call('EXPIRE', key, tonumber(ARGV[5]))
return {'OK', total}
`;

/** KEYS[1] cart; ARGV: productId, new quantity, available units (-1: not looked up), ttl s, now ms. */
const SET_QUANTITY = `
local key = KEYS[1]
local pid = ARGV[1]
local qty = tonumber(ARGV[2])
local available = tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', key, 'qty:' .. pid) or '0')
if current == 0 then return {'NOT_IN_CART', 0} end
if qty > current then
  if available < 0 then return {'STOCK_NEEDED', current} end
  if qty > available then return {'SHORT_OF_STOCK', current} end
end
redis.call('HSET', key, 'qty:' .. pid, qty, 'meta:updated', ARGV[5])
redis.call('EXPIRE', key, tonumber(ARGV[4]))
return {'OK', qty}
`;

/** KEYS[1] cart; ARGV: productId, ttl s, now ms. Removing the last line deletes the cart. */
const REMOVE_ITEM = `
local key = KEYS[1]
local pid = ARGV[1]
if redis.call('HDEL', key, 'qty:' .. pid) == 0 then return {'OK', 0} end
redis.call('HDEL', key, 'line:' .. pid, 'pos:' .. pid)
if redis.call('HINCRBY', key, 'meta:count', -1) <= 0 then
  redis.call('DEL', key)
  return {'OK', 1}
end
redis.call('HSET', key, 'meta:updated', ARGV[3])
redis.call('EXPIRE', key, tonumber(ARGV[2]))
return {'OK', 1}
`;

type ScriptReply = [string, number | string];

interface CartCommands {
  cartAddItem(key: string, ...args: Array<string | number>): Promise<ScriptReply>;
  cartSetQuantity(key: string, ...args: Array<string | number>): Promise<ScriptReply>;
  cartRemoveItem(key: string, ...args: Array<string | number>): Promise<ScriptReply>;
}

export type AddItemResult =
  | { kind: "added"; quantity: number }
  | { kind: "too-many-lines"; maxLines: number }
  | { kind: "currency-mismatch"; cartCurrency: string }
  | { kind: "line-full"; inCart: number }
  | { kind: "short-of-stock"; inCart: number };

export type SetQuantityResult =
  { kind: "set" } | { kind: "not-in-cart" } | { kind: "stock-needed"; inCart: number } | { kind: "short-of-stock"; inCart: number };

export interface CartStore {
  get(userId: string): Promise<StoredCart>;
  /** Adds units to a line (creating it with `snapshot`), within the limits and `available`. */
  addItem(
    userId: string,
    item: { productId: string; quantity: number; snapshot: AddedSnapshot; available: number; maxLineQuantity: number },
  ): Promise<AddItemResult>;
  /** Sets a line's quantity; an increase needs `available` (pass undefined to learn whether it does). */
  setQuantity(userId: string, item: { productId: string; quantity: number; available: number | undefined }): Promise<SetQuantityResult>;
  removeItem(userId: string, productId: string): Promise<void>;
  clear(userId: string): Promise<void>;
}

export interface CartStoreOptions {
  ttlSeconds: number;
  maxLines: number;
}

/** The cart store on `redis`; registers its scripts on the client (EVALSHA, loaded on demand). */
export function createCartStore(redis: Redis, logger: Logger, options: CartStoreOptions): CartStore {
  redis.defineCommand("cartAddItem", { numberOfKeys: 1, lua: ADD_ITEM });
  redis.defineCommand("cartSetQuantity", { numberOfKeys: 1, lua: SET_QUANTITY });
  redis.defineCommand("cartRemoveItem", { numberOfKeys: 1, lua: REMOVE_ITEM });
  const commands = redis as unknown as CartCommands;

  /** Redis faults become UNAVAILABLE with a plain message; the cause stays in the log. */
  async function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      logger.warn({ err: (err as Error).message, operation }, "cart store failed");
      throw new UnavailableError("cart storage is unavailable; try again shortly", { cause: err });
    }
  }

  return {
    async get(userId) {
      const fields = await guarded("get", () => redis.hgetall(cartKey(userId)));
      return parseCart(fields);
    },

    async addItem(userId, item) {
      const [status, value] = await guarded("add", () =>
        commands.cartAddItem(
          cartKey(userId),
          item.productId,
          item.quantity,
          item.maxLineQuantity,
          options.maxLines,
          options.ttlSeconds,
          Date.now(),
          item.snapshot.price.currency,
          JSON.stringify({ ...item.snapshot, price: { currency: item.snapshot.price.currency, amountMinor: item.snapshot.price.amountMinor.toString() } }),
          item.available,
        ),
      );
      switch (status) {
        case "OK":
          return { kind: "added", quantity: Number(value) };
        case "TOO_MANY_LINES":
          return { kind: "too-many-lines", maxLines: options.maxLines };
        case "CURRENCY_MISMATCH":
          return { kind: "currency-mismatch", cartCurrency: String(value) };
        case "LINE_FULL":
          return { kind: "line-full", inCart: Number(value) };
        case "SHORT_OF_STOCK":
          return { kind: "short-of-stock", inCart: Number(value) };
        default:
          throw new Error(`unexpected reply from cartAddItem: ${status}`);
      }
    },

    async setQuantity(userId, item) {
      const [status, value] = await guarded("set-quantity", () =>
        commands.cartSetQuantity(cartKey(userId), item.productId, item.quantity, item.available ?? -1, options.ttlSeconds, Date.now()),
      );
      switch (status) {
        case "OK":
          return { kind: "set" };
        case "NOT_IN_CART":
          return { kind: "not-in-cart" };
        case "STOCK_NEEDED":
          return { kind: "stock-needed", inCart: Number(value) };
        case "SHORT_OF_STOCK":
          return { kind: "short-of-stock", inCart: Number(value) };
        default:
          throw new Error(`unexpected reply from cartSetQuantity: ${status}`);
      }
    },

    async removeItem(userId, productId) {
      await guarded("remove", () => commands.cartRemoveItem(cartKey(userId), productId, options.ttlSeconds, Date.now()));
    },

    async clear(userId) {
      await guarded("clear", () => redis.del(cartKey(userId)));
    },
  };
}

function parseCart(fields: Record<string, string>): StoredCart {
  const lines: StoredLine[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (!field.startsWith("qty:")) continue;
    const productId = field.slice("qty:".length);
    const raw = fields[`line:${productId}`];
    if (raw === undefined) continue;
    const added = JSON.parse(raw) as { name: string; imageUrl: string; price: { currency: string; amountMinor: string } };
    lines.push({
      productId,
      quantity: Number(value),
      position: Number(fields[`pos:${productId}`] ?? 0),
      added: { name: added.name, imageUrl: added.imageUrl, price: { currency: added.price.currency, amountMinor: BigInt(added.price.amountMinor) } },
    });
  }
  const updated = fields["meta:updated"];
  return { lines, updatedAt: updated === undefined ? undefined : new Date(Number(updated)) };
}
