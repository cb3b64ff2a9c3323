import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PreconditionFailureSchema } from "@shopmesh/gen/google/rpc/error_details_pb.js";

/**
 * Errors the domain throws on purpose. Each carries the gRPC code that the spec
 * assigns to it; `toConnectError` turns them into wire errors. Anything that is not
 * a DomainError or ConnectError is a bug and reaches the client as INTERNAL.
 */
export abstract class DomainError extends Error {
  abstract readonly code: Code;
  /** Facts a client acts on (which products are short), sent as google.rpc.Status details on every transport. */
  readonly details: readonly ErrorDetail[];
  constructor(message: string, options?: ErrorOptions & { details?: readonly ErrorDetail[] }) {
    super(message, options);
    this.name = new.target.name;
    this.details = options?.details ?? [];
  }
}

/** A protobuf message carried by an error; clients read it by type (ConnectError.findDetails). */
export interface ErrorDetail {
  desc: DescMessage;
  value: MessageInitShape<DescMessage>;
}

/**
 * The kinds of google.rpc.PreconditionFailure violations the contracts name. `subject` is the
 * thing that failed the check: for STOCK, the product id; `description` says why, for people.
 */
export const PreconditionViolation = {
  /** Not available in the quantity asked: short of stock, or no longer sold. */
  stock: "STOCK",
} as const;

/** A google.rpc.PreconditionFailure detail: which subjects failed which check. */
export function preconditionFailure(type: string, violations: ReadonlyArray<{ subject: string; description: string }>): ErrorDetail {
  return errorDetail(PreconditionFailureSchema, { violations: violations.map((violation) => ({ type, ...violation })) });
}

/** An error detail whose value is checked against its message type. */
export function errorDetail<Desc extends DescMessage>(desc: Desc, value: MessageInitShape<Desc>): ErrorDetail {
  return { desc, value: value as MessageInitShape<DescMessage> };
}

export class InvalidArgumentError extends DomainError {
  readonly code = Code.InvalidArgument;
}
export class NotFoundError extends DomainError {
  readonly code = Code.NotFound;
}
export class AlreadyExistsError extends DomainError {
  readonly code = Code.AlreadyExists;
}
/** The system is not in the state the operation needs (out of stock, wrong order status). */
export class FailedPreconditionError extends DomainError {
  readonly code = Code.FailedPrecondition;
}
/** A concurrent change won; the caller may retry the whole read-modify-write. */
export class AbortedError extends DomainError {
  readonly code = Code.Aborted;
}
export class UnauthenticatedError extends DomainError {
  readonly code = Code.Unauthenticated;
}
export class PermissionDeniedError extends DomainError {
  readonly code = Code.PermissionDenied;
}
export class ResourceExhaustedError extends DomainError {
  readonly code = Code.ResourceExhausted;
}
/** A transient fault; only this one tells clients that retrying may help. */
export class UnavailableError extends DomainError {
  readonly code = Code.Unavailable;
}

/**
 * An error a downstream answered, as a stub received it (details decoded). A handler
 * restates the ones it expects in its own terms (order turns inventory's out-of-stock into
 * its own, with the products); `toConnectError` maps the rest: the downstream being
 * unreachable or overloaded is UNAVAILABLE, anything else is a bug between services (INTERNAL).
 * Its name stays ConnectError, so `instanceof ConnectError` holds; test it with `isDownstreamError`.
 */
export class DownstreamError extends ConnectError {
  constructor(
    /** The callee's service, e.g. shopmesh.inventory.v1.InventoryService. */
    readonly downstream: string,
    received: ConnectError,
  ) {
    super(received.rawMessage, received.code, received.metadata, undefined, received.cause);
    this.details = received.details;
  }
}

export const isDownstreamError = (err: unknown): err is DownstreamError =>
  err instanceof ConnectError && typeof (err as Partial<DownstreamError>).downstream === "string";

const DOWNSTREAM_UNAVAILABLE = new Set<Code>([Code.Unavailable, Code.ResourceExhausted, Code.Aborted]);

/** What a client sees for an unexpected failure: no message, no stack, no internals. */
export const INTERNAL_MESSAGE = "internal error";

/**
 * Maps any thrown value to the ConnectError a client may see. `onUnexpected` is called
 * for failures that are not deliberate so the caller can log the cause with the trace id.
 */
export function toConnectError(err: unknown, onUnexpected: (err: unknown) => void): ConnectError {
  if (isDownstreamError(err)) {
    // Not restated by the handler: a fault of the callee is ours to hide, not to forward.
    if (err.code === Code.DeadlineExceeded) return new ConnectError("deadline exceeded", Code.DeadlineExceeded);
    if (DOWNSTREAM_UNAVAILABLE.has(err.code)) return new ConnectError("a service this call needs is unavailable; try again shortly", Code.Unavailable);
    onUnexpected(err);
    return new ConnectError(INTERNAL_MESSAGE, Code.Internal);
  }
  if (err instanceof ConnectError) {
    return err;
  }
  if (err instanceof DomainError) {
    return new ConnectError(err.message, err.code, undefined, [...err.details]);
  }
  onUnexpected(err);
  return new ConnectError(INTERNAL_MESSAGE, Code.Internal);
}
