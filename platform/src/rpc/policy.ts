import { getOption, hasOption, type DescMethod } from "@bufbuild/protobuf";
import { Auth, rule, type Rule } from "@shopmesh/gen/shopmesh/policy/v1/policy_pb.js";

export { Auth, type Rule };

/** Methods without a declared rule are treated as internal: never public by accident. */
export interface MethodPolicy {
  readonly auth: Auth;
  readonly roles: readonly string[];
  readonly rateLimit: string;
  readonly idempotent: boolean;
  readonly timeoutMs: number;
  /** With AUTH_INTERNAL: the mesh identities that may call; empty means any. */
  readonly callers?: readonly string[];
}

const INTERNAL_DEFAULT: MethodPolicy = { auth: Auth.INTERNAL, roles: [], rateLimit: "", idempotent: false, timeoutMs: 0, callers: [] };

const cache = new WeakMap<DescMethod, MethodPolicy>();

/** The `(shopmesh.policy.v1.rule)` option of a method, as declared in its contract. */
export function methodPolicy(method: DescMethod): MethodPolicy {
  let policy = cache.get(method);
  if (!policy) {
    if (hasOption(method, rule)) {
      const declared = getOption(method, rule);
      policy = declared.auth === Auth.UNSPECIFIED ? INTERNAL_DEFAULT : declared;
    } else {
      policy = INTERNAL_DEFAULT;
    }
    cache.set(method, policy);
  }
  return policy;
}
