import { stringify } from "yaml";

/** JSON-shaped data: what an Envoy bootstrap is. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Block-style YAML, deterministic (key order as given) and stable under prettier (no folded
 * lines). Written with YAML 1.1's rules, so strings such as "on" or "no" are quoted and every
 * reader, 1.1 or 1.2, gets the same data.
 */
export function toYaml(value: Json): string {
  return stringify(value, { lineWidth: 0, version: "1.1" });
}
