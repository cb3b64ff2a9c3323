#!/usr/bin/env bash
# The whole suite, as CI runs it: contracts, build, types, lint, then every jest test
# against the real local infrastructure (started here if it is not already healthy).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

step "bootstrap"
bash scripts/bootstrap.sh
# Everything below (npx, jest, the services the tests spawn) runs on the Node of .nvmrc.
# shellcheck source=infra/node.sh
. scripts/infra/node.sh || { echo "test.sh: no Node $(cat .nvmrc) on PATH" >&2; exit 1; }

step "infrastructure"
bash scripts/infra/up.sh

step "browser for the storefront tests (Debian chromium)"
bash scripts/web/install-browser.sh

step "deployment validators (kustomize, Kubernetes schemas, compose loader)"
bash scripts/k8s/install-tools.sh

step "contracts: buf lint, format, breaking, generated code up to date"
if [ "${CI:-}" = "true" ]; then bash scripts/proto/check.sh --require-committed; else bash scripts/proto/check.sh; fi

step "build"
npx tsc -b tsconfig.build.json

step "docs: API reference generated from the contracts up to date (docs/api.md)"
npm run --silent docs:check

step "topology and telemetry registry: files generated from them up to date (docs/ports.md, docs/telemetry.md, scripts/infra/topics.txt, ops/ Prometheus configs and dashboards)"
npm run --silent topology:check

step "edge: generated Envoy configs up to date and valid (envoy --mode validate)"
npm run --silent envoy:check
for config in envoy/envoy.yaml envoy/envoy.compose.yaml envoy/envoy.k8s.yaml; do
  "${SHOPMESH_TOOLS:-$HOME/.cache/shopmesh/tools}/bin/envoy" --mode validate -c "$config" --log-level error >/dev/null
  echo "valid: $config"
done

step "deployment: k8s/ and compose.yaml generated from the topology up to date"
npm run --silent deploy:check

step "typecheck (sources and tests)"
npx tsc -p tsconfig.json
npx tsc -p web

step "lint and format"
npx eslint . --max-warnings 0
npx prettier --check . --log-level warn

step "dependencies: pinned, locked, declared where imported, used (scripts/check-deps.mjs)"
node scripts/check-deps.mjs

# The suite must pass beside a running dev stack (`npm start` in another terminal) and leave it
# untouched. CI proves it: it brings the stack up first (SHOPMESH_TEST_BESIDE_STACK=0 skips
# that), and afterwards checks that none of the stack's topics moved. A stack somebody else
# started (and may be using) is only checked for new dead letters.
stack_started_here=""
stack_check=""
mkdir -p .shopmesh
if node scripts/stack.mjs ready >/dev/null 2>&1; then
  step "a dev stack is running: the suite runs beside it"
  stack_check="--dead-letters-only"
elif [ "${SHOPMESH_TEST_BESIDE_STACK:-${CI:-false}}" = "true" ] || [ "${SHOPMESH_TEST_BESIDE_STACK:-}" = "1" ]; then
  step "dev stack beside the suite (npm run up)"
  node scripts/stack.mjs up
  stack_started_here=1
  trap 'node scripts/stack.mjs down-services || true' EXIT
fi
if [ -n "$stack_started_here" ] || [ -n "$stack_check" ]; then node scripts/ci/stack-topics.mjs snapshot .shopmesh/stack-topics.json; fi

step "tests"
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" npx jest --ci "$@"

if [ -n "$stack_started_here" ] || [ -n "$stack_check" ]; then
  step "the running dev stack saw none of the suite's traffic"
  node scripts/ci/stack-topics.mjs check .shopmesh/stack-topics.json $stack_check
fi

step "done"
