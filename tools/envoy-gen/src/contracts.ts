import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getOption, hasOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Auth, rule } from "@shopmesh/gen/shopmesh/policy/v1/policy_pb.js";

/** The generated code of every contract (`gen/src`), found relative to this package (src/ or dist/). */
const GEN_SHOPMESH_DIR = fileURLToPath(new URL("../../../gen/src/shopmesh/", import.meta.url));

/** What the edge needs to know about one RPC that it routes. */
export interface EdgeMethod {
  /** `Method` */
  name: string;
  /** `/shopmesh.identity.v1.IdentityService/Login`: the HTTP path of gRPC, gRPC-Web and Connect alike. */
  path: string;
  /** A server stream: no route timeout, long idle timeout. */
  streaming: boolean;
  /** AUTH_PUBLIC -> token optional (but checked when sent); AUTH_USER -> token required. */
  auth: "public" | "user";
  /** Roles are checked by the service itself; carried for the docs and the generated comments. */
  roles: readonly string[];
  /** Rate-limit class sent to the ratelimit service ("default" when the rule leaves it empty). */
  rateLimitClass: string;
  /** Only idempotent methods get an edge retry policy. */
  idempotent: boolean;
  /** Edge route timeout; 0 = the generator's default. */
  timeoutMs: number;
}

/** One service of the contracts, as the edge sees it. */
export interface EdgeService {
  /** `shopmesh.identity.v1.IdentityService`; also the gRPC health-check service name. */
  typeName: string;
  /** The deployable serving it (`identity`), which names its clusters and upstream address. */
  upstream: string;
  /** RPCs the edge routes (AUTH_PUBLIC / AUTH_USER). */
  routable: EdgeMethod[];
  /** Paths of RPCs the edge never routes (AUTH_INTERNAL, no rule): they fall through to 404. */
  internal: string[];
}

/** `shopmesh.<context>.v1.XService` -> `<context>`: each bounded context is one deployable. */
export function upstreamOf(typeName: string): string {
  const match = /^shopmesh\.([a-z0-9_]+)\.v\d+\./.exec(typeName);
  if (!match) throw new Error(`${typeName}: not a shopmesh service (expected shopmesh.<context>.v<N>.<Service>)`);
  return match[1]!;
}

/**
 * Reads the `(shopmesh.policy.v1.rule)` option of one method. A method without a rule, or with
 * `auth` unset or AUTH_INTERNAL, is not routable: the same default the platform applies.
 */
export function edgeMethodOf(method: DescMethod): EdgeMethod | undefined {
  if (!hasOption(method, rule)) return undefined;
  const declared = getOption(method, rule);
  if (declared.auth !== Auth.PUBLIC && declared.auth !== Auth.USER) return undefined;
  return {
    name: method.name,
    path: `/${method.parent.typeName}/${method.name}`,
    streaming: method.methodKind !== "unary",
    auth: declared.auth === Auth.PUBLIC ? "public" : "user",
    roles: [...declared.roles],
    rateLimitClass: declared.rateLimit || "default",
    idempotent: declared.idempotent,
    timeoutMs: declared.timeoutMs,
  };
}

/** The edge's view of one generated service descriptor. */
export function describeService(service: DescService): EdgeService {
  const routable: EdgeMethod[] = [];
  const internal: string[] = [];
  for (const method of service.methods) {
    const edgeMethod = edgeMethodOf(method);
    if (edgeMethod) routable.push(edgeMethod);
    else internal.push(`/${service.typeName}/${method.name}`);
  }
  return { typeName: service.typeName, upstream: upstreamOf(service.typeName), routable, internal };
}

function isService(value: unknown): value is DescService {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "service";
}

/**
 * Every service of the contracts, discovered from the generated code: each
 * `gen/src/shopmesh/<context>/v<N>/*_pb.js` is imported and its exported service descriptors
 * collected. Sorted by name so the output is stable.
 */
export async function loadContractServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  for (const context of readdirSync(GEN_SHOPMESH_DIR).sort()) {
    for (const version of readdirSync(`${GEN_SHOPMESH_DIR}${context}`).sort()) {
      for (const file of readdirSync(`${GEN_SHOPMESH_DIR}${context}/${version}`).sort()) {
        if (!file.endsWith("_pb.js")) continue;
        // The package specifier (not the file path) so the descriptors are the same module
        // instances the rest of the process uses.
        const module = (await import(`@shopmesh/gen/shopmesh/${context}/${version}/${file}`)) as Record<string, unknown>;
        services.push(...Object.values(module).filter(isService));
      }
    }
  }
  return services.sort((a, b) => a.typeName.localeCompare(b.typeName));
}
