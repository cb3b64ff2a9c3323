/** Units per line, from the contract (AddItemRequest/UpdateItemQuantityRequest.quantity). */
export const MAX_LINE_QUANTITY = 99;

/** An amount in a currency's minor unit; bigint so sums never lose precision. */
export interface Money {
  currency: string;
  amountMinor: bigint;
}

/** What a product looked like when it was first put in the cart. */
export interface AddedSnapshot {
  name: string;
  imageUrl: string;
  price: Money;
}

/** One line as the store keeps it. */
export interface StoredLine {
  productId: string;
  quantity: number;
  /** Insertion order: lines are shown in the order they were added. */
  position: number;
  added: AddedSnapshot;
}

/** A cart as the store keeps it; an absent cart is an empty one. */
export interface StoredCart {
  lines: StoredLine[];
  updatedAt: Date | undefined;
}

/** The catalog's current view of a product. */
export interface CurrentProduct {
  id: string;
  name: string;
  imageUrl: string;
  active: boolean;
  price: Money;
}

export interface PricedLine {
  productId: string;
  name: string;
  quantity: number;
  unitPrice: Money;
  addedUnitPrice: Money;
  priceChanged: boolean;
  lineTotal: Money;
  imageUrl: string;
  inStock: boolean;
}

export interface PricedCart {
  lines: PricedLine[];
  /** Absent for an empty cart: there is no currency to state a zero in. */
  subtotal: Money | undefined;
  itemCount: number;
  updatedAt: Date | undefined;
}

const sameMoney = (a: Money, b: Money) => a.currency === b.currency && a.amountMinor === b.amountMinor;

/**
 * Re-prices a stored cart against the catalog's current products and inventory's available
 * units. A line whose product is gone from the catalog keeps its added price and name; a
 * line that is no longer sold, short of stock, or now priced in a currency other than the
 * cart's is not in stock (checkout refuses it). The subtotal sums the lines priced in the
 * cart's currency (the currency of its first line), with integer arithmetic only.
 */
export function priceCart(stored: StoredCart, products: ReadonlyMap<string, CurrentProduct>, available: ReadonlyMap<string, number>): PricedCart {
  const ordered = [...stored.lines].sort((a, b) => a.position - b.position);
  const cartCurrency = ordered[0]?.added.price.currency;
  let subtotal = 0n;
  let itemCount = 0;
  const lines = ordered.map((line): PricedLine => {
    const current = products.get(line.productId);
    const unitPrice = current?.price ?? line.added.price;
    const sameCurrency = unitPrice.currency === cartCurrency;
    const inStock = current !== undefined && current.active && sameCurrency && (available.get(line.productId) ?? 0) >= line.quantity;
    const lineTotal = { currency: unitPrice.currency, amountMinor: unitPrice.amountMinor * BigInt(line.quantity) };
    if (sameCurrency) subtotal += lineTotal.amountMinor;
    itemCount += line.quantity;
    return {
      productId: line.productId,
      name: current?.name ?? line.added.name,
      quantity: line.quantity,
      unitPrice,
      addedUnitPrice: line.added.price,
      priceChanged: !sameMoney(unitPrice, line.added.price),
      lineTotal,
      imageUrl: current?.imageUrl ?? line.added.imageUrl,
      inStock,
    };
  });
  return {
    lines,
    subtotal: cartCurrency === undefined ? undefined : { currency: cartCurrency, amountMinor: subtotal },
    itemCount,
    updatedAt: stored.updatedAt,
  };
}

/** The message shown when a line would need more units than inventory has. */
export function shortOfStockMessage(available: number, inCart: number): string {
  const left = `only ${Math.max(available, 0)} left`;
  return inCart > 0 ? `${left} (${inCart} already in your cart)` : left;
}
