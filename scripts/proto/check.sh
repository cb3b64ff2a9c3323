#!/usr/bin/env bash
# Contract checks, run in CI and before pushing:
#   1. buf lint                      (STANDARD + doc comments; proto/envoy excluded, see buf.yaml)
#   2. buf format                    (proto/ must be `buf format`-clean)
#   3. buf breaking                  (FILE rules, against the proto/ of base git refs: the default
#                                     branch `main` (or origin/main) and HEAD~1, each skipped when
#                                     the clone lacks it; override with
#                                     PROTO_BREAKING_AGAINST="<ref> [<ref>...]")
#   4. generated code is up to date  (regenerates into a temp dir and diffs against gen/src;
#                                     with CI=true or --require-committed also fails when
#                                     gen/src or proto/ has uncommitted or untracked changes)
# Usage: scripts/proto/check.sh [--require-committed]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUF="$ROOT/node_modules/.bin/buf"
[[ -x "$BUF" ]] || { echo "check: $BUF not found; run npm ci first" >&2; exit 1; }

REQUIRE_COMMITTED=0
[[ "${CI:-}" == "true" || "${CI:-}" == "1" ]] && REQUIRE_COMMITTED=1
for arg in "$@"; do
  case "$arg" in
    --require-committed) REQUIRE_COMMITTED=1 ;;
    *) echo "check: unknown argument $arg" >&2; exit 2 ;;
  esac
done

FAILED=0
fail() { echo "check: FAIL: $*" >&2; FAILED=1; }
ok() { echo "check: ok: $*"; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# 1. lint
if "$BUF" lint; then ok "buf lint"; else fail "buf lint (see above)"; fi

# 2. format
if "$BUF" format proto -d --exit-code >"$TMP/format.diff" 2>&1; then
  ok "buf format"
else
  cat "$TMP/format.diff" >&2
  fail "buf format: run \`node_modules/.bin/buf format -w proto\`"
fi

# 3. breaking, against the proto/ tree of each base commit. The base tree is exported with
#    git archive and built with the current buf.yaml and third_party/, so it works in any clone
#    with history (no BSR, no network) and does not depend on the base commit's buf.yaml layout
#    (which `buf breaking --against '.git#branch=main'` would). Refs that resolve to the same
#    commit are checked once.
breaking_against() {
  local ref="$1" base="$TMP/base-$2"
  mkdir -p "$base"
  git archive "$ref" proto | tar -x -C "$base"
  cp "$ROOT/buf.yaml" "$base/buf.yaml"
  cp -R "$ROOT/third_party" "$base/third_party"
  if ! (cd "$base" && "$BUF" build proto -o "$TMP/base-$2.binpb"); then
    fail "buf breaking: could not build proto/ of $ref"
  elif "$BUF" breaking proto --against "$TMP/base-$2.binpb"; then
    ok "buf breaking against $ref ($(git rev-parse --short "$ref"))"
  else
    fail "buf breaking against $ref: breaking changes above (FILE rules); bump the package version (v2) instead"
  fi
}
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "check: skip: buf breaking (not a git checkout)"
else
  checked=" "
  for ref in ${PROTO_BREAKING_AGAINST:-main HEAD~1}; do
    [[ "$ref" == main ]] && ! git rev-parse --verify --quiet main^{commit} >/dev/null && ref=origin/main
    commit="$(git rev-parse --verify --quiet "$ref^{commit}" || true)"
    if [[ -z "$commit" ]]; then
      echo "check: skip: buf breaking against $ref (not in this clone: first commit, shallow clone or no such branch)"
    elif [[ "$checked" == *" $commit "* ]]; then
      continue
    elif [[ -z "$(git ls-tree -d "$ref" proto 2>/dev/null)" ]]; then
      echo "check: skip: buf breaking against $ref (it has no proto/)"
    else
      breaking_against "$ref" "$commit"
    fi
    checked+="$commit "
  done
fi

# 4. generated code up to date
if "$BUF" generate -o "$TMP/out" >"$TMP/gen.log" 2>&1; then
  if diff -r -q "$TMP/out/gen/src" gen/src >"$TMP/gen.diff" 2>&1; then
    ok "gen/src matches proto/"
  else
    sed 's/^/  /' "$TMP/gen.diff" >&2
    fail "gen/src is stale: run scripts/proto/generate.sh and commit gen/src"
  fi
else
  cat "$TMP/gen.log" >&2
  fail "buf generate failed"
fi

if [[ "$REQUIRE_COMMITTED" == 1 ]] && git rev-parse --verify --quiet HEAD >/dev/null; then
  DIRTY="$(git status --porcelain --untracked-files=all -- proto gen/src)"
  if [[ -n "$DIRTY" ]]; then
    echo "$DIRTY" | sed 's/^/  /' >&2
    fail "uncommitted or untracked changes in proto/ or gen/src (commit them)"
  else
    ok "proto/ and gen/src are committed"
  fi
fi

if [[ "$FAILED" != 0 ]]; then
  echo "check: contract checks FAILED" >&2
  exit 1
fi
echo "check: all contract checks passed"
