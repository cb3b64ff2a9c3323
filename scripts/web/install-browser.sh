#!/usr/bin/env bash
# Installs Debian's Chromium for the storefront's browser tests (test/web). Idempotent: does
# nothing when /usr/bin/chromium is already there. No browser download by Playwright: the tests
# drive this binary through playwright-core.
set -euo pipefail
CHROMIUM="${SHOPMESH_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) ($CHROMIUM)"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "chromium missing at $CHROMIUM and apt-get is not available: install Chromium and set SHOPMESH_CHROMIUM" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; refresh only when the package is unknown.
if ! apt-cache show chromium >/dev/null 2>&1; then $SUDO apt-get update -qq; fi
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium: $("$CHROMIUM" --version)"
