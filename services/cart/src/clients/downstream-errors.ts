import { Code, ConnectError } from "@connectrpc/connect";
import { NotFoundError, UnavailableError } from "@shopmesh/platform";

/** Codes that mean "the downstream cannot answer now": the caller may retry later. */
const UNAVAILABLE_CODES = new Set<Code>([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted]);

/**
 * Runs a downstream call and restates its failure in cart's own terms: NOT_FOUND stays
 * NOT_FOUND, an unreachable, slow or overloaded downstream (including an open circuit
 * breaker) is UNAVAILABLE, anything else is a bug somewhere and surfaces as INTERNAL.
 */
export async function callDownstream<T>(downstream: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ConnectError) {
      if (err.code === Code.NotFound) throw new NotFoundError(err.rawMessage, { cause: err });
      if (UNAVAILABLE_CODES.has(err.code)) throw new UnavailableError(`${downstream} is unavailable; try again shortly`, { cause: err });
    }
    throw new Error(`${downstream} call failed`, { cause: err });
  }
}
