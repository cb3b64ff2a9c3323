import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { canTransition, isCancellable, isTerminal, parseStatus, statusName } from "./status.js";

describe("order state machine", () => {
  test("the happy path PENDING -> PAID -> SHIPPED -> DELIVERED is allowed step by step", () => {
    expect(canTransition(OrderStatus.PENDING, OrderStatus.PAID)).toBe(true);
    expect(canTransition(OrderStatus.PAID, OrderStatus.SHIPPED)).toBe(true);
    expect(canTransition(OrderStatus.SHIPPED, OrderStatus.DELIVERED)).toBe(true);
  });

  test("skipping payment or going backwards is rejected", () => {
    expect(canTransition(OrderStatus.PENDING, OrderStatus.SHIPPED)).toBe(false);
    expect(canTransition(OrderStatus.PENDING, OrderStatus.DELIVERED)).toBe(false);
    expect(canTransition(OrderStatus.PAID, OrderStatus.PENDING)).toBe(false);
    expect(canTransition(OrderStatus.DELIVERED, OrderStatus.SHIPPED)).toBe(false);
  });

  test("an order can be cancelled before it ships, never after", () => {
    expect(isCancellable(OrderStatus.PENDING)).toBe(true);
    expect(isCancellable(OrderStatus.PAID)).toBe(true);
    expect(isCancellable(OrderStatus.SHIPPED)).toBe(false);
    expect(isCancellable(OrderStatus.DELIVERED)).toBe(false);
    expect(isCancellable(OrderStatus.CANCELLED)).toBe(false);
  });

  test("delivered, cancelled and payment-failed orders are terminal", () => {
    for (const status of [OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED]) expect(isTerminal(status)).toBe(true);
    expect(isTerminal(OrderStatus.PAID)).toBe(false);
  });

  test("status names round-trip through the database spelling", () => {
    expect(statusName(OrderStatus.PAYMENT_FAILED)).toBe("PAYMENT_FAILED");
    expect(parseStatus("PAID")).toBe(OrderStatus.PAID);
    expect(() => parseStatus("LOST")).toThrow();
  });
});
