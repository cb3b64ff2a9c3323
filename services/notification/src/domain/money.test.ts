import { formatMoney } from "./money.js";

describe("formatMoney", () => {
  test("when the currency has cents, then two decimals are shown exactly", () => {
    expect(formatMoney({ currency: "EUR", amountMinor: 123450n })).toBe("EUR 1234.50");
    expect(formatMoney({ currency: "USD", amountMinor: 5n })).toBe("USD 0.05");
    expect(formatMoney({ currency: "USD", amountMinor: 0n })).toBe("USD 0.00");
  });

  test("when the currency has no minor unit (JPY), then no decimals are shown", () => {
    expect(formatMoney({ currency: "JPY", amountMinor: 1500n })).toBe("JPY 1500");
  });

  test("when the amount is beyond float precision, then it is still exact", () => {
    expect(formatMoney({ currency: "EUR", amountMinor: 9007199254740993n })).toBe("EUR 90071992547409.93");
  });

  test("when the amount is missing, then the text is empty", () => {
    expect(formatMoney(undefined)).toBe("");
  });
});
