import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";
import { createPageTokenCodec } from "./page-token.js";

const codec = createPageTokenCodec("test.items", z.object({ id: z.guid(), at: z.iso.datetime().transform((at) => new Date(at)) }));
const buildPosition = (overrides: Partial<{ id: string; at: string }> = {}) => ({
  id: "01890a5d-ac96-774b-bcce-b302099a8057",
  at: "2026-01-02T03:04:05.678Z",
  ...overrides,
});

describe("page tokens", () => {
  test("when a token is decoded with the scope it was issued for, then the position comes back parsed", () => {
    const token = codec.encode(buildPosition(), ["open", 10n, true]);
    expect(codec.decode(token, ["open", 10n, true])).toEqual({ id: buildPosition().id, at: new Date("2026-01-02T03:04:05.678Z") });
  });

  test("when the token is empty, then it is the first page", () => {
    expect(codec.decode("", ["open"])).toBeUndefined();
  });

  test("when the scope differs, then INVALID_ARGUMENT says the token is for other filters", () => {
    const token = codec.encode(buildPosition(), ["open"]);
    expect(() => codec.decode(token, ["closed"])).toThrow(/other filters/);
    expect(() => codec.decode(token)).toThrow(InvalidArgumentError);
  });

  test.each([
    ["not base64url", "!!!"],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["JSON of another shape", Buffer.from('{"after":"x"}').toString("base64url")],
    ["another list's token", createPageTokenCodec("test.other", z.object({ id: z.string() })).encode({ id: "x" })],
    ["a position that fails the schema", codec.encode(buildPosition({ id: "1 OR 1=1" }))],
    ["far too long", "A".repeat(10_000)],
  ])("when the token is %s, then INVALID_ARGUMENT with a message that does not echo it", (_what, token) => {
    expect(() => codec.decode(token)).toThrow(new InvalidArgumentError("page_token is invalid"));
  });

  test("when a read returns one row past the limit, then the page stops at the limit and its token continues after the last row shown", () => {
    const ids = ["01890a5d-ac96-774b-bcce-b302099a8051", "01890a5d-ac96-774b-bcce-b302099a8052", "01890a5d-ac96-774b-bcce-b302099a8053"];
    const rows = ids.map((id) => buildPosition({ id }));
    const full = codec.page(rows, 2, (last) => last, ["open"]);
    expect(full.items).toEqual(rows.slice(0, 2));
    expect(codec.decode(full.nextPageToken, ["open"])?.id).toBe(ids[1]);
    expect(codec.page(rows, 3, (last) => last).nextPageToken).toBe("");
  });
});
