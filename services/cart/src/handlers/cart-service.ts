import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { CartLineSchema, CartSchema, type CartService, type Cart } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import { FailedPreconditionError, NotFoundError, requireCaller, type Logger } from "@shopmesh/platform";
import { MAX_LINE_QUANTITY, priceCart, shortOfStockMessage, type Money, type PricedCart } from "../domain/cart.js";
import type { CatalogClient } from "../clients/catalog.js";
import type { InventoryClient } from "../clients/inventory.js";
import type { CartStore } from "../store/carts.js";

export interface CartDeps {
  carts: CartStore;
  catalog: CatalogClient;
  inventory: InventoryClient;
  logger: Logger;
}

const toMoney = (money: Money) => create(MoneySchema, { currency: money.currency, amountMinor: money.amountMinor });

function toCart(userId: string, cart: PricedCart): Cart {
  return create(CartSchema, {
    userId,
    lines: cart.lines.map((line) =>
      create(CartLineSchema, {
        productId: line.productId,
        name: line.name,
        quantity: line.quantity,
        unitPrice: toMoney(line.unitPrice),
        addedUnitPrice: toMoney(line.addedUnitPrice),
        priceChanged: line.priceChanged,
        lineTotal: toMoney(line.lineTotal),
        imageUrl: line.imageUrl,
        inStock: line.inStock,
      }),
    ),
    subtotal: cart.subtotal && toMoney(cart.subtotal),
    itemCount: cart.itemCount,
    updateTime: cart.updatedAt && timestampFromDate(cart.updatedAt),
  });
}

/**
 * CartService: every RPC acts on the caller's own cart (the user id comes from the verified
 * token) and answers with the whole cart re-priced against the catalog (one
 * BatchGetProducts) and checked against inventory (one BatchGetStock). When either is
 * unreachable the call fails UNAVAILABLE rather than showing prices or stock it cannot vouch for.
 */
export function createCartService(deps: CartDeps): ServiceImpl<typeof CartService> {
  const { carts, catalog, inventory } = deps;

  async function currentCart(userId: string): Promise<Cart> {
    const stored = await carts.get(userId);
    if (stored.lines.length === 0) return toCart(userId, priceCart(stored, new Map(), new Map()));
    const ids = stored.lines.map((line) => line.productId);
    const [products, available] = await Promise.all([catalog.findProducts(ids), inventory.availableMany(ids)]);
    return toCart(userId, priceCart(stored, products, available));
  }

  return {
    async getCart(_request, ctx) {
      return { cart: await currentCart(requireCaller(ctx).userId) };
    },

    async addItem(request, ctx) {
      const { userId } = requireCaller(ctx);
      // Both lookups at once; the product's verdict wins over a stock failure.
      const [products, stock] = await Promise.allSettled([catalog.findProducts([request.productId]), inventory.available(request.productId)]);
      if (products.status === "rejected") throw products.reason;
      const product = products.value.get(request.productId);
      if (!product) throw new NotFoundError("product not found");
      if (!product.active) throw new FailedPreconditionError("product is no longer sold");
      if (stock.status === "rejected") throw stock.reason;

      const result = await carts.addItem(userId, {
        productId: product.id,
        quantity: request.quantity,
        snapshot: { name: product.name, imageUrl: product.imageUrl, price: product.price },
        available: stock.value,
        maxLineQuantity: MAX_LINE_QUANTITY,
      });
      switch (result.kind) {
        case "added":
          break;
        case "too-many-lines":
          throw new FailedPreconditionError(`a cart holds at most ${result.maxLines} different products`);
        case "currency-mismatch":
          throw new FailedPreconditionError(`the cart is priced in ${result.cartCurrency}; this product is sold in ${product.price.currency}`);
        case "line-full":
          throw new FailedPreconditionError(`a cart line holds at most ${MAX_LINE_QUANTITY} units (${result.inCart} already in your cart)`);
        case "short-of-stock":
          throw new FailedPreconditionError(shortOfStockMessage(stock.value, result.inCart));
      }
      return { cart: await currentCart(userId) };
    },

    async updateItemQuantity(request, ctx) {
      const { userId } = requireCaller(ctx);
      const item = { productId: request.productId, quantity: request.quantity };
      // Lowering a quantity needs no stock check, so inventory is asked only when the store says so.
      let result = await carts.setQuantity(userId, { ...item, available: undefined });
      let available: number | undefined;
      if (result.kind === "stock-needed") {
        available = await inventory.available(request.productId);
        result = await carts.setQuantity(userId, { ...item, available });
      }
      switch (result.kind) {
        case "set":
          break;
        case "not-in-cart":
          throw new NotFoundError("product is not in the cart");
        case "short-of-stock":
          throw new FailedPreconditionError(shortOfStockMessage(available ?? 0, 0));
        case "stock-needed":
          throw new Error("cart store asked for stock it was given");
      }
      return { cart: await currentCart(userId) };
    },

    async removeItem(request, ctx) {
      const { userId } = requireCaller(ctx);
      await carts.removeItem(userId, request.productId);
      return { cart: await currentCart(userId) };
    },

    async clearCart(_request, ctx) {
      const { userId } = requireCaller(ctx);
      await carts.clear(userId);
      return { cart: await currentCart(userId) };
    },
  };
}
