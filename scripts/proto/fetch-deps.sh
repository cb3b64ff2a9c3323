#!/usr/bin/env bash
# Fetch third-party proto dependencies into the git-ignored cache .cache/protodeps/.
#
# The only dependency is buf/validate/validate.proto (protovalidate). It is not our
# code, so it is never committed: we take it from the Maven Central jar
# build.buf:protovalidate:<PROTOVALIDATE_VERSION>, which carries the .proto as a resource,
# and check its sha256 so every machine compiles against the same bytes.
#
# Version choice: the validate.proto in build.buf:protovalidate 1.3.0 (byte-identical to
# 1.2.1 and 1.2.2, i.e. upstream protovalidate v1.2.x) is descriptor-for-descriptor equal
# to the one embedded in @bufbuild/protovalidate@1.3.0
# (dist/*/gen/buf/validate/validate_pb.js), which is what our generated code imports at
# run time. Bump both together, and update PROTOVALIDATE_SHA256.
#
# Idempotent: returns immediately when the cached file is present and has the pinned hash.
set -euo pipefail

PROTOVALIDATE_VERSION="1.3.0"
PROTOVALIDATE_SHA256="817951eab518442950f1982be24b2c3154b214b40e42f49b915cbf5181e6ee80"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/protodeps"
TARGET="$CACHE/buf/validate/validate.proto"
REL="buf/validate/validate.proto"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$TARGET" ]] && [[ "$(sha256_of "$TARGET")" == "$PROTOVALIDATE_SHA256" ]]; then
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { echo "fetch-deps: mvn (Apache Maven) is required to fetch build.buf:protovalidate:$PROTOVALIDATE_VERSION" >&2; exit 1; }
command -v unzip >/dev/null 2>&1 || { echo "fetch-deps: unzip is required" >&2; exit 1; }

echo "fetch-deps: fetching $REL from Maven Central (build.buf:protovalidate:$PROTOVALIDATE_VERSION)" >&2
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

if ! mvn -q -B dependency:copy \
    -Dartifact="build.buf:protovalidate:$PROTOVALIDATE_VERSION:jar" \
    -DoutputDirectory="$TMP" >"$TMP/mvn.log" 2>&1; then
  cat "$TMP/mvn.log" >&2
  echo "fetch-deps: mvn dependency:copy failed (is Maven Central reachable?)" >&2
  exit 1
fi

JAR="$TMP/protovalidate-$PROTOVALIDATE_VERSION.jar"
[[ -f "$JAR" ]] || { echo "fetch-deps: expected $JAR after mvn dependency:copy" >&2; exit 1; }

mkdir -p "$TMP/out"
unzip -q -o "$JAR" "$REL" -d "$TMP/out"
GOT="$(sha256_of "$TMP/out/$REL")"
if [[ "$GOT" != "$PROTOVALIDATE_SHA256" ]]; then
  echo "fetch-deps: sha256 mismatch for $REL from protovalidate $PROTOVALIDATE_VERSION" >&2
  echo "  expected $PROTOVALIDATE_SHA256" >&2
  echo "  got      $GOT" >&2
  exit 1
fi

mkdir -p "$(dirname "$TARGET")"
# Atomic replace, so a concurrent reader never sees a half-written file.
cp "$TMP/out/$REL" "$TARGET.tmp.$$"
mv -f "$TARGET.tmp.$$" "$TARGET"
echo "fetch-deps: wrote ${TARGET#"$ROOT/"}" >&2
