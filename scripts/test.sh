#!/usr/bin/env bash
# The whole suite, as CI runs it: contracts, build, types, lint, then every jest test
# against the real local infrastructure (started here if it is not already healthy).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

step "bootstrap"
bash scripts/bootstrap.sh

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

step "edge: generated Envoy configs up to date and valid (envoy --mode validate)"
npm run --silent envoy:check
for config in envoy/envoy.yaml envoy/envoy.compose.yaml envoy/envoy.k8s.yaml; do
  "${SHOPMESH_TOOLS:-$HOME/.cache/shopmesh/tools}/bin/envoy" --mode validate -c "$config" --log-level error >/dev/null
  echo "valid: $config"
done

step "typecheck (sources and tests)"
npx tsc -p tsconfig.json
npx tsc -p web

step "lint and format"
npx eslint . --max-warnings 0
npx prettier --check . --log-level warn

step "tests"
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" npx jest --ci "$@"

step "done"
