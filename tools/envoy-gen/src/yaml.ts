/** JSON-shaped data: what an Envoy bootstrap is. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

// Plain scalars only where YAML cannot read them as anything but the same string.
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

function scalar(value: Exclude<Json, Json[] | { [key: string]: Json }>): string {
  if (typeof value === "string") return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

const isEmptyCollection = (value: Json) =>
  Array.isArray(value) ? value.length === 0 : typeof value === "object" && value !== null && Object.keys(value).length === 0;

function inline(value: Json): string | undefined {
  if (value === null || typeof value !== "object") return scalar(value);
  if (isEmptyCollection(value)) return Array.isArray(value) ? "[]" : "{}";
  return undefined;
}

function lines(value: Json, indent: string): string[] {
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      const simple = inline(item);
      if (simple !== undefined) {
        out.push(`${indent}- ${simple}`);
        continue;
      }
      const nested = lines(item, `${indent}  `);
      out.push(`${indent}- ${nested[0]!.trimStart()}`, ...nested.slice(1));
    }
    return out;
  }
  const out: string[] = [];
  for (const [key, item] of Object.entries(value as { [key: string]: Json })) {
    const simple = inline(item);
    if (simple !== undefined) out.push(`${indent}${scalar(key)}: ${simple}`);
    else out.push(`${indent}${scalar(key)}:`, ...lines(item, `${indent}  `));
  }
  return out;
}

/** Block-style YAML, deterministic (key order as given) and stable under prettier. */
export function toYaml(value: Json): string {
  return `${lines(value, "").join("\n")}\n`;
}
