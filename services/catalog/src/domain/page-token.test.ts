import { InvalidArgumentError } from "@shopmesh/platform";
import { categoryPageTokens, listPageTokens, listScope, searchPageTokens, type ListCursor } from "./page-token.js";

const buildCursor = (overrides: Partial<ListCursor> = {}): ListCursor => ({
  order: "price_asc",
  key: "1999",
  id: "01890a5d-ac96-774b-bcce-b302099a8057",
  ...overrides,
});

const buildScope = (overrides: Partial<Parameters<typeof listScope>[0]> = {}) =>
  listScope({ order: "price_asc", categoryId: "", includeInactive: false, ...overrides });

describe("list page tokens", () => {
  test("when a token is decoded for the request that issued it, then the cursor comes back unchanged", () => {
    const cursor = buildCursor({ order: "name", key: "Blue Lamp" });
    const scope = buildScope({ order: "name" });
    expect(listPageTokens.decode(listPageTokens.encode(cursor, scope), scope)).toEqual(cursor);
  });

  test("when the request's order or filters changed, then the token is refused", () => {
    const token = listPageTokens.encode(buildCursor(), buildScope());
    expect(() => listPageTokens.decode(token, buildScope({ order: "price_desc" }))).toThrow(InvalidArgumentError);
    expect(() => listPageTokens.decode(token, buildScope({ categoryId: "x" }))).toThrow(InvalidArgumentError);
  });

  test.each([
    ["not base64url", "!!!"],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["a JSON array", Buffer.from("[1]").toString("base64url")],
    ["a non-numeric price key", listPageTokens.encode(buildCursor({ key: "1; DROP TABLE products" }), buildScope())],
    ["a malformed id", listPageTokens.encode(buildCursor({ id: "42" }), buildScope())],
    ["a category token", categoryPageTokens.encode({ name: "Lamps", id: "01890a5d-ac96-774b-bcce-b302099a8057" }, buildScope())],
  ])("when the token is %s, then INVALID_ARGUMENT", (_what, token) => {
    expect(() => listPageTokens.decode(token, buildScope())).toThrow(InvalidArgumentError);
  });
});

describe("search page tokens", () => {
  test("when a token is replayed against another query, then it is refused", () => {
    const token = searchPageTokens.encode({ mode: "natural", offset: 20 }, ["lamp", ""]);
    expect(searchPageTokens.decode(token, ["lamp", ""])?.offset).toBe(20);
    expect(() => searchPageTokens.decode(token, ["chair", ""])).toThrow(InvalidArgumentError);
  });

  test("when the offset is beyond the deepest page served, then the token is refused", () => {
    const token = searchPageTokens.encode({ mode: "prefix", offset: 5_000 }, ["lamp"]);
    expect(() => searchPageTokens.decode(token, ["lamp"])).toThrow(InvalidArgumentError);
  });
});
