import { deliveryTemplateFor, describeOrderLines, greetingName, parseAddressList, TEMPLATE } from "./messages.js";

const ASSIGNED = 2;
const PICKED_UP = 3;
const IN_TRANSIT = 4;
const DELIVERED = 5;
const FAILED = 6;

describe("deliveryTemplateFor", () => {
  test("when the parcel is picked up, then the customer hears it is shipped", () => {
    expect(deliveryTemplateFor(ASSIGNED, PICKED_UP)).toBe(TEMPLATE.deliveryShipped);
  });

  test("when it goes straight to in transit, then the customer hears it is shipped", () => {
    expect(deliveryTemplateFor(ASSIGNED, IN_TRANSIT)).toBe(TEMPLATE.deliveryShipped);
  });

  test("when it moves from picked up to in transit, then no second shipped message", () => {
    expect(deliveryTemplateFor(PICKED_UP, IN_TRANSIT)).toBeUndefined();
  });

  test("when it is delivered, then the delivered message", () => {
    expect(deliveryTemplateFor(IN_TRANSIT, DELIVERED)).toBe(TEMPLATE.deliveryDelivered);
  });

  test("when the delivery fails, then no message from this rule", () => {
    expect(deliveryTemplateFor(IN_TRANSIT, FAILED)).toBeUndefined();
  });
});

test("describeOrderLines writes one readable line per order line", () => {
  const text = describeOrderLines([
    { name: "Mug", quantity: 2, unitPrice: { currency: "EUR", amountMinor: 500n }, lineTotal: { currency: "EUR", amountMinor: 1000n } },
    { name: "Tea", quantity: 1, unitPrice: { currency: "EUR", amountMinor: 399n }, lineTotal: { currency: "EUR", amountMinor: 399n } },
  ]);
  expect(text).toBe("2 x Mug @ EUR 5.00 = EUR 10.00\n1 x Tea @ EUR 3.99 = EUR 3.99");
});

test("greetingName falls back to a neutral word when no display name is known", () => {
  expect(greetingName("  Jane ")).toBe("Jane");
  expect(greetingName("")).toBe("there");
  expect(greetingName(undefined)).toBe("there");
});

test("parseAddressList splits on commas and spaces, normalises and removes duplicates", () => {
  expect(parseAddressList(" Ops@Shop.test, ops@shop.test  second@shop.test,")).toEqual(["ops@shop.test", "second@shop.test"]);
});
