import { Code, ConnectError } from "@connectrpc/connect";
import { FailedPreconditionError, INTERNAL_MESSAGE, NotFoundError, toConnectError } from "./errors.js";

describe("toConnectError", () => {
  test("domain errors keep their message and get their gRPC code", () => {
    expect(toConnectError(new NotFoundError("product p1 not found"), () => undefined)).toMatchObject({
      code: Code.NotFound,
      rawMessage: "product p1 not found",
    });
    expect(toConnectError(new FailedPreconditionError("only 2 left"), () => undefined).code).toBe(Code.FailedPrecondition);
  });

  test("an unexpected error reaches the client as INTERNAL without its message, and is reported", () => {
    const reported: unknown[] = [];
    const bug = new TypeError("cannot read properties of undefined (reading 'secret')");
    const mapped = toConnectError(bug, (err) => reported.push(err));
    expect(mapped.code).toBe(Code.Internal);
    expect(mapped.rawMessage).toBe(INTERNAL_MESSAGE);
    expect(reported).toEqual([bug]);
  });

  test("a ConnectError passes through unchanged", () => {
    const original = new ConnectError("slow down", Code.ResourceExhausted);
    expect(toConnectError(original, () => undefined)).toBe(original);
  });
});
