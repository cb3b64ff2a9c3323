#!/usr/bin/env bash
# One line per component: state, pid, port(s).  Exit 0 iff all are healthy.
#   scripts/infra/status.sh
set -uo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

printf '%-10s %-9s %-8s %-8s %s\n' COMPONENT STATE PID OWNER PORTS
all=0
for c in "${COMPONENTS[@]}"; do
  port=$(comp_port "$c")
  owner=ours
  pid=$(comp_pid "$c") || { pid=$(port_owner_pid "$port"); owner=${pid:+other}; }
  if comp_healthy "$c"; then state=healthy
  elif [ -n "${pid:-}" ]; then state=unhealthy; all=1
  else state=down; owner=-; all=1
  fi
  printf '%-10s %-9s %-8s %-8s %s\n' "$c" "$state" "${pid:--}" "${owner:--}" "$(comp_ports_desc "$c")"
done
for t in grpcurl envoy; do
  # capture first, then filter (grep -m1 in a pipe would SIGPIPE envoy under pipefail)
  if out=$("$t" --version 2>&1) && v=$(printf '%s\n' "$out" | sed -n '/./{p;q}') && [ -n "$v" ]; then
    printf '%-10s %-9s %-8s %-8s %s\n' "$t" installed - - "$(echo "$v" | sed -E 's#^.*version: [0-9a-f]+/([0-9.]+)/.*$#envoy \1#' | cut -c1-60)"
  else
    printf '%-10s %-9s %-8s %-8s %s\n' "$t" missing - - -; all=1
  fi
done
exit "$all"
