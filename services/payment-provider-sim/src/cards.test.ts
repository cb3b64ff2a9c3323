import { cardOutcome, last4 } from "./cards.js";

describe("test cards", () => {
  test("4242 4242 4242 4242 succeeds at once", () => {
    expect(cardOutcome("4242 4242 4242 4242")).toEqual({ result: "succeeded", delayed: false });
  });

  test("the decline card fails at once with card_declined", () => {
    expect(cardOutcome("4000000000000002")).toMatchObject({ result: "failed", delayed: false, failureReason: "card_declined" });
  });

  test("the slow cards settle later: 0259 succeeds, 9995 fails for insufficient funds", () => {
    expect(cardOutcome("4000000000000259")).toEqual({ result: "succeeded", delayed: true });
    expect(cardOutcome("4000-0000-0000-9995")).toMatchObject({ result: "failed", delayed: true, failureReason: "insufficient_funds" });
  });

  test("an unknown card is declined, and only its last four digits are ever shown", () => {
    expect(cardOutcome("5555555555554444").result).toBe("failed");
    expect(last4("5555 5555 5555 4444")).toBe("4444");
  });
});
