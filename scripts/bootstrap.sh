#!/usr/bin/env bash
# Makes a fresh clone runnable: the Node of .nvmrc (installed into the tools cache when the
# machine's is older), npm dependencies (when missing, stale or installed by another Node) and
# the local infrastructure's tools (MariaDB, Redis, Kafka, Jaeger, Mailpit, grpcurl, Envoy).
# Idempotent and quick when everything is present. Callers that go on to run node source
# scripts/infra/node.sh afterwards, as this script's PATH does not outlive it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/infra/install-node.sh
# shellcheck source=infra/node.sh
. scripts/infra/node.sh || { echo "bootstrap: no Node $(cat .nvmrc) on PATH" >&2; exit 1; }
echo "==> node $(node --version) ($(command -v node))"

# The Node ABI the dependencies were installed for: another one (a Node upgrade) rebuilds them.
abi_stamp=node_modules/.shopmesh-node-abi
abi=$(node -p process.versions.modules)
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` with the committed lock rather than `npm ci`: the registries these machines
  # reach do not serve other platforms' optional binaries (buf, swc), which npm ci insists on
  # finding in the lock. The lock is still honoured, and left unchanged.
  echo "==> installing npm dependencies"
  # On a terminal npm shows its progress (forced on: a user's npmrc may turn it off) and its
  # summary; in a log (CI), its errors and summary only.
  if [ -t 1 ] && [ -t 2 ]; then npm_output=(--progress=true); else npm_output=(--progress=false --loglevel=error); fi
  npm install --no-audit --no-fund "${npm_output[@]}"
  echo "$abi" >"$abi_stamp"
elif [ "$(cat "$abi_stamp" 2>/dev/null)" != "$abi" ]; then
  echo "==> rebuilding npm dependencies for node $(node --version)"
  npm rebuild --loglevel=error
  echo "$abi" >"$abi_stamp"
fi

echo "==> checking local infrastructure tools"
bash scripts/infra/install.sh
