#!/usr/bin/env bash
# Regenerate gen/src from proto/ and the gRPC protos in third_party/ (protoc-gen-es, target
# js+dts; see buf.gen.yaml). Output is committed. Plain `npx buf generate` does the same.
#   scripts/proto/generate.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUF="$ROOT/node_modules/.bin/buf"
[[ -x "$BUF" ]] || { echo "generate: $BUF not found; run npm ci first" >&2; exit 1; }
[[ -x "$ROOT/node_modules/.bin/protoc-gen-es" ]] || { echo "generate: protoc-gen-es not found; run npm ci first" >&2; exit 1; }

"$BUF" generate "$@"
echo "generate: wrote gen/src ($(find gen/src -name '*_pb.js' | wc -l | tr -d ' ') files)"
