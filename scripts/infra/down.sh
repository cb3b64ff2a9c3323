#!/usr/bin/env bash
# Stops the infrastructure processes that up.sh started from THIS checkout
# (by pid file): SIGTERM, bounded wait, then SIGKILL. Processes reused from
# another checkout are left alone. Data under .shopmesh/data is kept.
#   scripts/infra/down.sh            # all components
#   scripts/infra/down.sh kafka
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO (exit $?)" >&2' ERR
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

grace_for() {
  case $1 in
    kafka|mariadb|opensearch) echo "${SHOPMESH_STOP_TIMEOUT:-45}" ;;
    *)             echo "${SHOPMESH_STOP_TIMEOUT:-15}" ;;
  esac
}

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  # reverse start order
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do targets+=("${COMPONENTS[$i]}"); done
fi

rc=0
for c in "${targets[@]}"; do
  pf=$(pid_file "$c")
  if pid=$(comp_pid "$c"); then
    t0=$SECONDS
    if stop_pid "$c" "$pid" "$(grace_for "$c")"; then
      info "$c: stopped (pid $pid) in $((SECONDS - t0))s"
      rm -f "$pf"
    else
      warn "$c: pid $pid is still alive"; rc=1
    fi
  else
    if [ -f "$pf" ]; then
      info "$c: not running (stale pid file removed)"; rm -f "$pf"
    else
      info "$c: not started by this checkout"
    fi
  fi
done
exit "$rc"
