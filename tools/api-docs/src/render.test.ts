import { create } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { FieldRulesSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { loadContractFiles } from "./contracts.js";
import { describeRules, renderApiDoc } from "./render.js";

describe("the API reference (docs/api.md)", () => {
  test("a field's rules read as their paths in buf.validate, as violations name them", () => {
    const rules = create(FieldRulesSchema, {
      required: true,
      cel: [{ id: "name_required", expression: "this.name != ''" }],
      type: { case: "string", value: { minLen: 1n, maxLen: 64n, wellKnown: { case: "uuid", value: true } } },
    });
    expect(describeRules(reflect(FieldRulesSchema, rules))).toEqual([
      "cel[name_required]: this.name != ''",
      "required",
      "string.min_len = 1",
      "string.max_len = 64",
      "string.uuid",
    ]);
  });

  test("every RPC appears with its policy and every validated field with its rules and comment", () => {
    const doc = renderApiDoc(loadContractFiles());
    expect(doc).toContain("| `/shopmesh.order.v1.OrderService/PlaceOrder` | unary | USER |  | default | yes | 15000 |");
    expect(doc).toContain("`OrderService.WatchOrder`");
    expect(doc).toMatch(/#### rpc `WatchOrder`\n\n`WatchOrderRequest` → stream `WatchOrderResponse` · \*\*server stream\*\* · auth `USER`/);
    expect(doc).toMatch(/\| `email` \| 1 \| `string` \| `string.max_len = 254`, `string.email` \| [^|]+ \|/);
  });
});
