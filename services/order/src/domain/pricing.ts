import { FailedPreconditionError } from "@shopmesh/platform";

export interface PricedLine {
  productId: string;
  name: string;
  quantity: number;
  unitPriceMinor: bigint;
  lineTotalMinor: bigint;
}

export interface OrderTotals {
  currency: string;
  lines: PricedLine[];
  subtotalMinor: bigint;
  shippingFeeMinor: bigint;
  totalMinor: bigint;
}

export interface ShippingRule {
  /** Flat fee charged below the free-shipping threshold. */
  feeMinor: bigint;
  /** Subtotal from which shipping is free (0 = never free). */
  freeFromMinor: bigint;
}

/**
 * Prices an order from current catalog prices, in integer minor units. All lines must share
 * one currency; a cart that mixes them cannot be charged in one payment.
 */
export function priceOrder(
  items: Array<{ productId: string; name: string; quantity: number; unitPriceMinor: bigint; currency: string }>,
  shipping: ShippingRule,
): OrderTotals {
  if (items.length === 0) throw new FailedPreconditionError("the cart is empty");
  const currency = items[0]!.currency;
  const mixed = items.find((item) => item.currency !== currency);
  if (mixed) throw new FailedPreconditionError(`cart mixes currencies (${currency} and ${mixed.currency})`);
  const lines = items.map((item) => ({
    productId: item.productId,
    name: item.name,
    quantity: item.quantity,
    unitPriceMinor: item.unitPriceMinor,
    lineTotalMinor: item.unitPriceMinor * BigInt(item.quantity),
  }));
  const subtotalMinor = lines.reduce((sum, line) => sum + line.lineTotalMinor, 0n);
  const free = shipping.freeFromMinor > 0n && subtotalMinor >= shipping.freeFromMinor;
  const shippingFeeMinor = free ? 0n : shipping.feeMinor;
  return { currency, lines, subtotalMinor, shippingFeeMinor, totalMinor: subtotalMinor + shippingFeeMinor };
}
