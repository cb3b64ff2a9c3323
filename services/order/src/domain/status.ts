import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";

/**
 * The order state machine. PENDING waits for payment; PAID waits for a courier; SHIPPED
 * covers pick-up and transit; DELIVERED, CANCELLED and PAYMENT_FAILED are terminal.
 */
const ALLOWED: Record<OrderStatus, readonly OrderStatus[]> = {
  [OrderStatus.UNSPECIFIED]: [],
  [OrderStatus.PENDING]: [OrderStatus.PAID, OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED],
  [OrderStatus.PAID]: [OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.CANCELLED],
  [OrderStatus.PACKED]: [OrderStatus.SHIPPED, OrderStatus.CANCELLED],
  [OrderStatus.SHIPPED]: [OrderStatus.DELIVERED],
  [OrderStatus.DELIVERED]: [],
  [OrderStatus.CANCELLED]: [],
  [OrderStatus.PAYMENT_FAILED]: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isTerminal(status: OrderStatus): boolean {
  return ALLOWED[status].length === 0;
}

/** A customer may cancel until the parcel leaves the warehouse. */
export function isCancellable(status: OrderStatus): boolean {
  return canTransition(status, OrderStatus.CANCELLED);
}

/** Database spelling of a status (the enum name without its prefix). */
export function statusName(status: OrderStatus): string {
  return OrderStatus[status];
}

export function parseStatus(name: string): OrderStatus {
  const status = OrderStatus[name as keyof typeof OrderStatus];
  if (status === undefined) throw new Error(`unknown order status ${name}`);
  return status;
}
