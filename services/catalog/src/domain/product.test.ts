import { InvalidArgumentError } from "@shopmesh/platform";
import { applyProductUpdate, type ProductPatch, type ProductRecord } from "./product.js";

const buildProduct = (overrides: Partial<ProductRecord> = {}): ProductRecord => ({
  id: "01890a5d-ac96-774b-bcce-b302099a8057",
  sku: "LAMP-1",
  name: "Desk lamp",
  description: "A lamp",
  categoryId: "01890a5d-ac96-774b-bcce-b302099a8058",
  priceMinor: 1999n,
  currency: "EUR",
  attributes: { color: "black" },
  imageUrl: "https://example.com/lamp.jpg",
  active: true,
  createdAt: new Date("2024-01-01T00:00:00Z"),
  updatedAt: new Date("2024-01-01T00:00:00Z"),
  version: 3,
  ...overrides,
});

const emptyPatch: ProductPatch = { sku: "", name: "", description: "", categoryId: "", price: undefined, attributes: {}, imageUrl: "", active: false };
const now = new Date("2024-02-01T00:00:00Z");

describe("applyProductUpdate", () => {
  test("when only name is in the mask, then only name changes even though the patch has other values", () => {
    const { next, changed } = applyProductUpdate(buildProduct(), { ...emptyPatch, name: "Floor lamp" }, ["name"], now);
    expect(changed).toEqual(["name"]);
    expect(next).toEqual(buildProduct({ name: "Floor lamp", updatedAt: now, version: 4 }));
  });

  test("when the masked values equal the current ones, then nothing is reported as changed", () => {
    const { next, changed } = applyProductUpdate(
      buildProduct(),
      { ...emptyPatch, price: { currency: "EUR", amountMinor: 1999n }, attributes: { color: "black" } },
      ["price", "attributes"],
      now,
    );
    expect(changed).toEqual([]);
    expect(next.updatedAt).toEqual(buildProduct().updatedAt);
  });

  test("when the mask names a required field with an empty value, then INVALID_ARGUMENT", () => {
    expect(() => applyProductUpdate(buildProduct(), emptyPatch, ["price"], now)).toThrow(InvalidArgumentError);
    expect(() => applyProductUpdate(buildProduct(), emptyPatch, ["sku"], now)).toThrow(InvalidArgumentError);
  });

  test("when the mask names an output-only or unknown field, then INVALID_ARGUMENT", () => {
    expect(() => applyProductUpdate(buildProduct(), emptyPatch, ["create_time"], now)).toThrow(InvalidArgumentError);
    expect(() => applyProductUpdate(buildProduct(), emptyPatch, ["price.amount_minor"], now)).toThrow(InvalidArgumentError);
  });

  test("when attributes are in the mask, then the map is replaced as a whole", () => {
    const { next, changed } = applyProductUpdate(buildProduct(), { ...emptyPatch, attributes: { size: "L" } }, ["attributes"], now);
    expect(changed).toEqual(["attributes"]);
    expect(next.attributes).toEqual({ size: "L" });
  });
});
