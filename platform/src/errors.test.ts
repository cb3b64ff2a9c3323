import { Code, ConnectError } from "@connectrpc/connect";
import { DownstreamError, FailedPreconditionError, INTERNAL_MESSAGE, isDownstreamError, NotFoundError, toConnectError } from "./errors.js";

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

  test("a downstream's error the handler did not restate is mapped, never forwarded: unreachable is UNAVAILABLE, a refusal is INTERNAL", () => {
    const reported: unknown[] = [];
    const from = (code: Code, message: string) => new DownstreamError("shopmesh.inventory.v1.InventoryService", new ConnectError(message, code));
    const unavailable = toConnectError(from(Code.Unavailable, "connect ECONNREFUSED 10.0.0.7:50056"), (err) => reported.push(err));
    expect(unavailable.code).toBe(Code.Unavailable);
    expect(unavailable.rawMessage).not.toContain("10.0.0.7");
    expect(toConnectError(from(Code.DeadlineExceeded, "deadline"), () => undefined).code).toBe(Code.DeadlineExceeded);
    const refused = from(Code.NotFound, "reservation r1 not found");
    const internal = toConnectError(refused, (err) => reported.push(err));
    expect(internal).toMatchObject({ code: Code.Internal, rawMessage: INTERNAL_MESSAGE });
    expect(reported).toEqual([refused]);
    // Still a ConnectError to code that only knows those, and told apart without instanceof.
    expect(refused).toBeInstanceOf(ConnectError);
    expect(isDownstreamError(refused)).toBe(true);
    expect(isDownstreamError(new ConnectError("mine", Code.NotFound))).toBe(false);
  });

  test("a ConnectError passes through unchanged", () => {
    const original = new ConnectError("slow down", Code.ResourceExhausted);
    expect(toConnectError(original, () => undefined)).toBe(original);
  });
});
