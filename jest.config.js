// jest runs every test in the repo: colocated unit tests, handler tests and component tests
// against the real infrastructure (started by `npm test` through scripts/infra/up.sh).
const swc = ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "es6" } }];

/** @type {import('jest').Config} */
export default {
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": swc },
  moduleNameMapper: {
    "^@shopmesh/platform$": "<rootDir>/platform/src/index.ts",
    "^@shopmesh/platform/data$": "<rootDir>/platform/src/data.ts",
    "^@shopmesh/platform/redis$": "<rootDir>/platform/src/redis.ts",
    "^@shopmesh/platform/pki$": "<rootDir>/platform/src/mesh-pki.ts",
    "^@shopmesh/platform/cli$": "<rootDir>/platform/src/cli/command-line.ts",
    "^@shopmesh/platform/telemetry-schema$": "<rootDir>/platform/src/telemetry/schema.ts",
    "^@shopmesh/platform/testing$": "<rootDir>/platform/src/testing/index.ts",
    "^@shopmesh/platform/topology$": "<rootDir>/platform/src/topology.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testEnvironment: "node",
  testMatch: ["<rootDir>/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/.shopmesh/", "/.cache/"],
  // Every file in a namespace of its own (Kafka topics, consumer groups, Redis keys), so the
  // suite runs beside a dev stack, a benchmark or another run without either seeing the other.
  globalSetup: "<rootDir>/test/setup/global-setup.mjs",
  globalTeardown: "<rootDir>/test/setup/global-teardown.mjs",
  setupFiles: ["<rootDir>/test/setup/namespace.ts"],
  setupFilesAfterEnv: ["<rootDir>/test/setup/topics-per-file.ts"],
  testTimeout: 30_000,
  maxWorkers: 2,
};
