import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";

/** Checks requests against the `buf.validate` rules declared in the contract. */
export interface RequestValidator {
  validate<D extends DescMessage>(schema: D, message: MessageShape<D>): void;
}

/**
 * An error answer travels in HTTP/2 headers (grpc-message, grpc-status-details-bin), which
 * peers cap at a few KiB: past them a grpc-js caller sees no answer until its deadline. So
 * the message names the first few violations and the details carry the first fifty.
 */
const VIOLATIONS_IN_MESSAGE = 3;
const VIOLATIONS_IN_DETAILS = 50;
const MAX_VIOLATION_TEXT = 160;

export function createRequestValidator(): RequestValidator {
  const validator = createValidator();
  return {
    validate(schema, message) {
      const result = validator.validate(schema, message);
      if (result.kind === "valid") return;
      if (result.kind === "invalid") {
        const all = result.violations;
        const [violations, violationsSchema] = violationsToProto(all.slice(0, VIOLATIONS_IN_DETAILS));
        const named = all.slice(0, VIOLATIONS_IN_MESSAGE).map((v) => {
          const text = v.toString();
          return text.length > MAX_VIOLATION_TEXT ? `${text.slice(0, MAX_VIOLATION_TEXT)}…` : text;
        });
        const more =
          all.length > VIOLATIONS_IN_MESSAGE
            ? `; and ${all.length - VIOLATIONS_IN_MESSAGE} more (the first ${VIOLATIONS_IN_DETAILS} in the error details)`
            : "";
        throw new ConnectError(`invalid request: ${named.join("; ")}${more}`, Code.InvalidArgument, undefined, [
          { desc: violationsSchema, value: create(violationsSchema, violations) },
        ]);
      }
      // A rule that cannot be compiled or evaluated is our bug, not the caller's.
      throw result.error;
    },
  };
}
