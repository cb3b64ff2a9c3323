import { formatMoney, type MoneyAmount } from "./money.js";

/** The template keys the event consumers use; the seed migration creates a default for each. */
export const TEMPLATE = {
  welcome: "user.welcome",
  signInFailures: "user.sign_in_failures",
  orderPlaced: "order.placed",
  paymentSucceeded: "payment.succeeded",
  paymentFailed: "payment.failed",
  deliveryAssigned: "delivery.assigned",
  deliveryShipped: "delivery.shipped",
  deliveryDelivered: "delivery.delivered",
  orderCancelled: "order.cancelled",
  paymentRefunded: "payment.refunded",
  stockLow: "stock.low",
} as const;

/** Delivery statuses as numbers (shopmesh.delivery.v1.DeliveryStatus), so this module stays pure. */
export const DELIVERY = { pickedUp: 3, inTransit: 4, delivered: 5 } as const;

const MOVING: ReadonlySet<number> = new Set([DELIVERY.pickedUp, DELIVERY.inTransit]);

/**
 * Which customer message a delivery status change deserves: "shipped" once, when the parcel
 * first starts moving (PICKED_UP, or IN_TRANSIT straight from ASSIGNED), "delivered" on
 * DELIVERED, nothing otherwise.
 */
export function deliveryTemplateFor(oldStatus: number, newStatus: number): string | undefined {
  if (newStatus === DELIVERY.delivered) return TEMPLATE.deliveryDelivered;
  if (MOVING.has(newStatus) && !MOVING.has(oldStatus)) return TEMPLATE.deliveryShipped;
  return undefined;
}

export interface OrderLineText {
  name: string;
  quantity: number;
  unitPrice?: MoneyAmount | undefined;
  lineTotal?: MoneyAmount | undefined;
}

/** One line per order line: "2 x Mug @ EUR 5.00 = EUR 10.00". */
export function describeOrderLines(lines: readonly OrderLineText[]): string {
  return lines.map((line) => `${line.quantity} x ${line.name} @ ${formatMoney(line.unitPrice)} = ${formatMoney(line.lineTotal)}`).join("\n");
}

/** The greeting name: the display name when known, otherwise a neutral "there" ("Hi there,"). */
export function greetingName(displayName: string | undefined): string {
  const trimmed = displayName?.trim();
  return trimmed ? trimmed : "there";
}

/** Comma- or space-separated addresses, trimmed, lower-cased, without duplicates. */
export function parseAddressList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(/[\s,]+/)
        .map((address) => address.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}
