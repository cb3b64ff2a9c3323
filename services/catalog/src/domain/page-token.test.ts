import { InvalidArgumentError } from "@shopmesh/platform";
import { decodeListCursor, decodeSearchCursor, encodeListCursor, encodeSearchCursor, searchFingerprint, type ListCursor } from "./page-token.js";

const buildCursor = (overrides: Partial<ListCursor> = {}): ListCursor => ({
  order: "price_asc",
  categoryId: "",
  includeInactive: false,
  key: "1999",
  id: "01890a5d-ac96-774b-bcce-b302099a8057",
  ...overrides,
});

describe("list page tokens", () => {
  test("when a token is decoded for the request that issued it, then the cursor comes back unchanged", () => {
    const cursor = buildCursor({ order: "name", key: "Blue Lamp" });
    expect(decodeListCursor(encodeListCursor(cursor), cursor)).toEqual(cursor);
  });

  test("when the request's order or filters changed, then the token is refused", () => {
    const token = encodeListCursor(buildCursor());
    expect(() => decodeListCursor(token, { order: "price_desc", categoryId: "", includeInactive: false })).toThrow(InvalidArgumentError);
    expect(() => decodeListCursor(token, { order: "price_asc", categoryId: "x", includeInactive: false })).toThrow(InvalidArgumentError);
  });

  test.each([
    ["not base64url", "!!!"],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["a JSON array", Buffer.from("[1]").toString("base64url")],
    ["a non-numeric price key", encodeListCursor(buildCursor({ key: "1; DROP TABLE products" }))],
    ["a malformed id", encodeListCursor(buildCursor({ id: "42" }))],
  ])("when the token is %s, then INVALID_ARGUMENT", (_what, token) => {
    expect(() => decodeListCursor(token, buildCursor())).toThrow(InvalidArgumentError);
  });
});

describe("search page tokens", () => {
  test("when a token is replayed against another query, then it is refused", () => {
    const token = encodeSearchCursor({ fingerprint: searchFingerprint("lamp", ""), mode: "natural", offset: 20 });
    expect(decodeSearchCursor(token, searchFingerprint("lamp", "")).offset).toBe(20);
    expect(() => decodeSearchCursor(token, searchFingerprint("chair", ""))).toThrow(InvalidArgumentError);
  });

  test("when the offset is beyond the deepest page served, then the token is refused", () => {
    const token = encodeSearchCursor({ fingerprint: "f", mode: "prefix", offset: 5_000 });
    expect(() => decodeSearchCursor(token, "f")).toThrow(InvalidArgumentError);
  });
});
