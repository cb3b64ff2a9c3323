#!/usr/bin/env bash
# Runs a command on the project's Node (.nvmrc), installing it first when the machine's is
# older (scripts/infra/install-node.sh):  bash scripts/with-node.sh node scripts/stack.mjs start
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/infra/install-node.sh"
# shellcheck source=infra/node.sh
. "$root/scripts/infra/node.sh" || { echo "with-node.sh: no Node $(cat "$root/.nvmrc") on PATH" >&2; exit 1; }
exec "$@"
