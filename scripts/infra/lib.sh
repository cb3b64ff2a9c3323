# shellcheck shell=bash
# Shared helpers for scripts/infra/*.sh. Source it; do not execute it.

# shellcheck source=env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

INFRA_DIR="$SHOPMESH_ROOT/scripts/infra"
# KAFKA_VERSION, shared with the generated compose and Kubernetes files.
# shellcheck source=versions.env
. "$INFRA_DIR/versions.env"
DATA_DIR="$SHOPMESH_STATE/data"
LOG_DIR="$SHOPMESH_STATE/logs"
RUN_DIR="$SHOPMESH_STATE/run"
KAFKA_LIBS="$SHOPMESH_TOOLS/kafka/libs"
# shellcheck disable=SC2034
OPENSEARCH_DIST="$SHOPMESH_TOOLS/opensearch"   # unpacked distribution (install.sh)

# Components managed by up/down/status (in start order).
# shellcheck disable=SC2034
COMPONENTS=(mariadb redis kafka jaeger mailpit toxiproxy opensearch prometheus)

# ---------------------------------------------------------------- logging
_ts() { date +%H:%M:%S; }
log()  { printf '%s [infra] %s\n' "$(_ts)" "$*" >&2; }
info() { log "$@"; }
warn() { printf '%s [infra] WARN: %s\n' "$(_ts)" "$*" >&2; }
die()  { printf '%s [infra] ERROR: %s\n' "$(_ts)" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- heartbeat
# A line every SHOPMESH_HEARTBEAT_SECONDS (15) while a long step runs (a multi-minute Go build,
# a download, a lock wait), so a first start is visibly alive. One at a time. A script using it
# sets `trap heartbeat_stop EXIT`, so the heartbeat also ends when the step fails and exits.
HEARTBEAT_PID=""
heartbeat_start() {  # heartbeat_start LABEL
  local label=$1 started=$SECONDS parent=$$
  heartbeat_stop
  (
    trap 'kill "${nap:-}" 2>/dev/null; exit 0' TERM
    while kill -0 "$parent" 2>/dev/null; do
      sleep "${SHOPMESH_HEARTBEAT_SECONDS:-15}" & nap=$!
      wait "$nap"
      info "$label: still working, $(_duration $((SECONDS - started))) elapsed"
    done
  ) &
  HEARTBEAT_PID=$!
}
heartbeat_stop() {
  [ -n "$HEARTBEAT_PID" ] || return 0
  kill "$HEARTBEAT_PID" 2>/dev/null || true
  wait "$HEARTBEAT_PID" 2>/dev/null || true
  HEARTBEAT_PID=""
}
# with_heartbeat LABEL CMD... : runs CMD in this shell with a heartbeat; returns its status.
# Under `set -e` a failing CMD exits the script at once (the EXIT trap stops the heartbeat).
with_heartbeat() {
  heartbeat_start "$1"
  shift
  "$@"
  local rc=$?
  heartbeat_stop
  return "$rc"
}
_duration() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

ensure_state_dirs() { mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"; }

log_file() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# Print the last N lines (default 40) of a component's log, framed.
log_tail() {
  local comp=$1 n=${2:-40} f
  f=$(log_file "$comp")
  printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
  if [ -f "$f" ]; then tail -n "$n" "$f" >&2; else echo "(no log file)" >&2; fi
  printf -- '----- end of %s log -----\n' "$comp" >&2
}

# Fail with a clear message naming the component, plus its log tail.
fail_component() {
  local comp=$1; shift
  printf '%s [infra] ERROR: %s: %s\n' "$(_ts)" "$comp" "$*" >&2
  log_tail "$comp" 40
  exit 1
}

# ---------------------------------------------------------------- pids
pid_read() { local f; f=$(pid_file "$1"); [ -s "$f" ] && tr -dc '0-9' <"$f"; }
pid_alive() {  # zombies count as dead
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Our recorded pid for a component, only if it is alive and looks like the
# right program (guards against pid reuse after a reboot).
comp_pid() {
  local comp=$1 pid pat
  pid=$(pid_read "$comp") || return 1
  pid_alive "$pid" || return 1
  case $comp in
    mariadb) pat='mariadbd|mysqld' ;;
    redis)   pat='redis-server' ;;
    kafka)   pat='kafka\.Kafka' ;;
    jaeger)  pat='jaeger' ;;
    mailpit) pat='mailpit' ;;
    toxiproxy) pat='toxiproxy-server' ;;
    opensearch) pat='org\.opensearch\.bootstrap\.OpenSearch|/bin/opensearch' ;;  # launcher script, then its exec'd JVM
    prometheus) pat='prometheus' ;;
    *)       pat='.' ;;
  esac
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd =~ $pat ]] || return 1
  echo "$pid"
}

# Pid of whatever listens on 127.0.0.1:PORT (best effort, via ss).
port_owner_pid() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

# ---------------------------------------------------------------- ports/waits
port_open() { timeout 3 bash -c "exec 3<>/dev/tcp/${2:-127.0.0.1}/$1" 2>/dev/null; }

# wait_until TIMEOUT_S DESCRIPTION CMD... : retry CMD until success or timeout.
# Optional: set WAIT_PID to abort early when that process dies.
wait_until() {
  local timeout=$1 desc=$2; shift 2
  local deadline=$((SECONDS + timeout)) delay=0.3
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "${WAIT_PID:-}" ] && ! pid_alive "$WAIT_PID"; then
      warn "$desc: process $WAIT_PID exited"
      return 2
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "$desc: timed out after ${timeout}s"
      return 1
    fi
    sleep "$delay"
    case $delay in 0.3) delay=0.5 ;; 0.5) delay=1 ;; esac
  done
}

# Keep logs bounded: rotate a log bigger than 50 MB to .1 before a start.
rotate_log() {
  local f; f=$(log_file "$1")
  if [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 52428800 ]; then mv -f "$f" "$f.1"; fi
}

# start_detached COMP CMD... : run CMD in its own session, outliving this shell,
# stdout/stderr appended to the component log; pid recorded in the pid file.
start_detached() {
  local comp=$1; shift
  local log pid
  ensure_state_dirs
  rotate_log "$comp"
  log=$(log_file "$comp")
  printf '\n===== %s starting %s: %s\n' "$(date -Is)" "$comp" "$*" >>"$log"
  # In a non-interactive shell the background job is not a group leader, so
  # setsid calls setsid() and execs in place: $! is the real process pid.
  # fds 8/9 are lock files of up.sh/install.sh: do not leak them to daemons.
  setsid nohup "$@" >>"$log" 2>&1 </dev/null 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$(pid_file "$comp")"
  echo "$pid"
}

# stop_pid COMP PID GRACE_S : TERM, wait up to GRACE_S, then KILL.
stop_pid() {
  local comp=$1 pid=$2 grace=${3:-20}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.3; done
  if pid_alive "$pid"; then
    warn "$comp (pid $pid) did not stop in ${grace}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  fi
  ! pid_alive "$pid"
}

# ---------------------------------------------------------------- component facts
mysql_socket() {
  local s="$RUN_DIR/mysqld.sock"
  if [ "${#s}" -gt 100 ]; then
    s="/tmp/shopmesh-mysqld-$(printf '%s' "$SHOPMESH_ROOT" | sha1sum | cut -c1-12).sock"
  fi
  echo "$s"
}

comp_port() {
  case $1 in
    mariadb) echo "$MYSQL_PORT" ;;
    redis)   echo "$REDIS_PORT" ;;
    kafka)   echo "$KAFKA_PORT" ;;
    jaeger)  echo "$JAEGER_UI_PORT" ;;
    mailpit) echo "$MAILPIT_UI_PORT" ;;
    toxiproxy) echo "$TOXIPROXY_PORT" ;;
    opensearch) echo "$OPENSEARCH_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
  esac
}

comp_ports_desc() {
  case $1 in
    mariadb) echo "$MYSQL_PORT" ;;
    redis)   echo "$REDIS_PORT" ;;
    kafka)   echo "$KAFKA_PORT,$KAFKA_CONTROLLER_PORT" ;;
    jaeger)  echo "$JAEGER_UI_PORT,$OTLP_GRPC_PORT,$OTLP_HTTP_PORT" ;;
    mailpit) echo "$MAILPIT_UI_PORT,$SMTP_PORT" ;;
    toxiproxy) echo "$TOXIPROXY_PORT" ;;
    opensearch) echo "$OPENSEARCH_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
  esac
}

KAFKA_TOOL_JAVA_OPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
  "-Dlog4j2.configurationFile=$SHOPMESH_TOOLS/kafka/tools-log4j2.properties")

# kafka_topics ARGS... : org.apache.kafka.tools.TopicCommand against our broker.
kafka_topics() {
  java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$KAFKA_BROKERS" "$@"
}

# Health checks: quick, each bounded by its own timeout.
healthy_mariadb() {
  # mysqladmin ping exits 0 whenever the server answers (even "access denied").
  port_open "$MYSQL_PORT" && timeout 5 mysqladmin --no-defaults --protocol=TCP -h127.0.0.1 \
    -P"$MYSQL_PORT" --connect-timeout=3 ping >/dev/null 2>&1
}
healthy_redis() {
  [ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}
healthy_kafka() {
  # Sets KAFKA_TOPIC_LIST as a side effect (reused by up.sh).
  # shellcheck disable=SC2034
  port_open "$KAFKA_PORT" && KAFKA_TOPIC_LIST=$(timeout 30 "$INFRA_DIR/kafka-topics.sh" --list 2>/dev/null)
}
healthy_jaeger() {
  curl -fsS --max-time 3 "http://127.0.0.1:$JAEGER_UI_PORT/api/services" >/dev/null 2>&1
}
healthy_mailpit() {
  curl -fsS --max-time 3 "http://127.0.0.1:$MAILPIT_UI_PORT/api/v1/info" >/dev/null 2>&1
}
healthy_toxiproxy() {
  curl -fsS --max-time 3 "http://127.0.0.1:$TOXIPROXY_PORT/version" >/dev/null 2>&1
}
healthy_opensearch() {
  local out
  out=$(curl -fsS --max-time 3 "http://127.0.0.1:$OPENSEARCH_PORT/_cluster/health" 2>/dev/null) &&
    [[ $out =~ \"status\":\"(green|yellow)\" ]]
}
healthy_prometheus() {
  curl -fsS --max-time 3 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1
}
comp_healthy() { "healthy_$1"; }
