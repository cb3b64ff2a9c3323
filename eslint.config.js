// One lint run for the whole repo; warnings are errors (`--max-warnings 0`).
import path from "node:path";
import tseslint from "typescript-eslint";

const repoRoot = path.dirname(new URL(import.meta.url).pathname);

/** The service folder a file belongs to (`services/<name>`), or undefined. */
function serviceOf(file) {
  const relative = path.relative(repoRoot, file).split(path.sep);
  return relative[0] === "services" && relative.length > 2 ? relative[1] : undefined;
}

/**
 * A service may import only its own files, @shopmesh/gen and @shopmesh/platform (and npm
 * packages). Reaching into another service's source couples deployables that must stay
 * independent; shared code belongs in the platform package.
 */
const serviceBoundaries = {
  meta: {
    type: "problem",
    schema: [],
    messages: { crossService: "{{from}} must not import {{target}}: services share code only through @shopmesh/platform and @shopmesh/gen" },
  },
  create(context) {
    const from = serviceOf(context.filename);
    if (!from) return {};
    const check = (node, source) => {
      if (typeof source !== "string") return;
      let target;
      if (source.startsWith(".")) {
        target = serviceOf(path.resolve(path.dirname(context.filename), source));
        if (target === undefined && path.resolve(path.dirname(context.filename), source).startsWith(path.join(repoRoot, "services"))) target = "services/";
      } else if (source.startsWith("@shopmesh/") && !/^@shopmesh\/(gen|platform)(\/|$)/.test(source)) {
        target = source;
      }
      if (target !== undefined && target !== from) context.report({ node, messageId: "crossService", data: { from: `services/${from}`, target: source } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node, node.source.value),
    };
  },
};

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "gen/**", ".cache/**", ".shopmesh/**", "web/dist/**", "coverage/**", "test-output/**"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { shopmesh: { rules: { "service-boundaries": serviceBoundaries } } },
    rules: {
      "shopmesh/service-boundaries": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
      "no-console": "error",
    },
  },
  {
    files: ["**/test/**/*.ts", "**/*.test.ts", "scripts/**/*.{ts,mjs,js}", "bench/**/*.{ts,mjs,js}"],
    rules: { "no-console": "off" },
  },
);
