#!/usr/bin/env bash
# Installs the deployment validators into ${SHOPMESH_TOOLS:-~/.cache/shopmesh/tools}; idempotent
# (a no-op in well under a second when everything is present at the pinned versions).
#   kustomize            go install sigs.k8s.io/kustomize/kustomize/v5 (Go module proxy)
#   kubernetes-validate  PyPI wheel that ships the Kubernetes JSON schemas (strict variants), in a venv
#   compose-check        scripts/k8s/compose-check (compose-go: the loader and schema `docker compose` uses)
# envoy comes from scripts/infra/install.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${SHOPMESH_TOOLS:-$HOME/.cache/shopmesh/tools}
BIN=$TOOLS/bin
LOGS=$TOOLS/install-logs
mkdir -p "$BIN" "$LOGS"
# Test files call this in parallel: one installs, the others wait and then find it done.
exec 9>"$TOOLS/.k8s-tools.lock"
flock 9

KUSTOMIZE_VERSION=v5.7.1          # v5.8.x needs Go >= 1.27
KUBERNETES_VALIDATE_VERSION=1.35.0 # schemas for Kubernetes 1.25 ... 1.35

log() { printf '  %-20s %s\n' "$1" "$2"; }

if [ -x "$BIN/kustomize" ] && "$BIN/kustomize" version 2>/dev/null | grep -q "$KUSTOMIZE_VERSION"; then
  :
else
  log kustomize "installing $KUSTOMIZE_VERSION (go install, ~2 min)"
  if ! (cd /tmp && GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION") >"$LOGS/kustomize.log" 2>&1; then
    tail -20 "$LOGS/kustomize.log" >&2
    exit 1
  fi
  # go install stamps the module version, which `kustomize version` prints.
  "$BIN/kustomize" version | grep -q "$KUSTOMIZE_VERSION" || { echo "kustomize: unexpected version $("$BIN/kustomize" version)" >&2; exit 1; }
fi

VENV=$TOOLS/k8s-venv
if [ -x "$VENV/bin/kubernetes-validate" ] && [ "$("$VENV/bin/kubernetes-validate" --version 2>/dev/null | awk '{print $NF}')" = "$KUBERNETES_VALIDATE_VERSION" ]; then
  :
else
  log kubernetes-validate "installing $KUBERNETES_VALIDATE_VERSION (PyPI)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >"$LOGS/kubernetes-validate.log" 2>&1; then
    tail -20 "$LOGS/kubernetes-validate.log" >&2
    exit 1
  fi
fi
ln -sf "$VENV/bin/kubernetes-validate" "$BIN/kubernetes-validate"

SRC=$ROOT/scripts/k8s/compose-check
STAMP=$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | sha256sum | cut -c1-16)
if [ -x "$BIN/compose-check" ] && [ "$(cat "$TOOLS/compose-check.stamp" 2>/dev/null)" = "$STAMP" ]; then
  :
else
  log compose-check "building (Go module proxy, ~1 min)"
  if ! (cd "$SRC" && GOFLAGS=-buildvcs=false go build -o "$BIN/compose-check" .) >"$LOGS/compose-check.log" 2>&1; then
    tail -20 "$LOGS/compose-check.log" >&2
    exit 1
  fi
  echo "$STAMP" >"$TOOLS/compose-check.stamp"
fi
