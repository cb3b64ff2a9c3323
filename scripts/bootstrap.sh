#!/usr/bin/env bash
# Makes a fresh clone runnable: npm dependencies (when missing or stale) and the local
# infrastructure's tools (MariaDB, Redis, Kafka, Jaeger, Mailpit, grpcurl, Envoy).
# Idempotent and quick when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` with the committed lock rather than `npm ci`: the registries these machines
  # reach do not serve other platforms' optional binaries (buf, swc), which npm ci insists on
  # finding in the lock. The lock is still honoured, and left unchanged.
  echo "==> installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi

echo "==> checking local infrastructure tools"
bash scripts/infra/install.sh
