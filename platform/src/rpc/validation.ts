import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";

/** Checks requests against the `buf.validate` rules declared in the contract. */
export interface RequestValidator {
  validate<D extends DescMessage>(schema: D, message: MessageShape<D>): void;
}

export function createRequestValidator(): RequestValidator {
  const validator = createValidator();
  return {
    validate(schema, message) {
      const result = validator.validate(schema, message);
      if (result.kind === "valid") return;
      if (result.kind === "invalid") {
        const [violations, violationsSchema] = violationsToProto(result.violations);
        const summary = result.violations.map((v) => v.toString()).join("; ");
        throw new ConnectError(`invalid request: ${summary}`, Code.InvalidArgument, undefined, [
          { desc: violationsSchema, value: create(violationsSchema, violations) },
        ]);
      }
      // A rule that cannot be compiled or evaluated is our bug, not the caller's.
      throw result.error;
    },
  };
}
