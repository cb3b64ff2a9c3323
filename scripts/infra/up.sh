#!/usr/bin/env bash
# Starts every local infrastructure process unless it is already healthy.
# Idempotent: a second run reuses healthy processes (also ones started from
# another checkout on the same ports) and only re-checks users/topics.
#   scripts/infra/up.sh            # all components
#   scripts/infra/up.sh redis kafka
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO (exit $?)" >&2' ERR
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

START_TIMEOUT="${SHOPMESH_START_TIMEOUT:-90}"   # seconds per component
ensure_state_dirs

require_bin() {  # comp bin...
  local c=$1 b; shift
  for b in "$@"; do
    command -v "$b" >/dev/null 2>&1 || die "$c: '$b' not found; run scripts/infra/install.sh"
  done
}

# ensure_component COMP : reuse a healthy instance or start one.
# Returns 0 if it was already healthy (prints "reusing"), starts otherwise.
already_healthy() {
  local comp=$1 port pid owner
  port=$(comp_port "$comp")
  if comp_healthy "$comp"; then
    if pid=$(comp_pid "$comp"); then
      info "$comp: healthy on 127.0.0.1:$port (pid $pid, ours) - reusing"
    else
      owner=$(port_owner_pid "$port")
      info "$comp: healthy on 127.0.0.1:$port, started elsewhere (pid ${owner:-?}) - reusing"
    fi
    return 0
  fi
  return 1
}

# wait_ready COMP PID : bounded wait for health; on failure print log & exit.
wait_ready() {
  local comp=$1 pid=$2 t0=$SECONDS rc=0
  WAIT_PID=$pid wait_until "$START_TIMEOUT" "$comp" comp_healthy "$comp" || rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ "$rc" -eq 2 ]; then
      fail_component "$comp" "process exited before becoming healthy (port $(comp_ports_desc "$comp"))"
    fi
    fail_component "$comp" "not healthy after ${START_TIMEOUT}s (pid $pid, port $(comp_ports_desc "$comp"))"
  fi
  info "$comp: healthy after $((SECONDS - t0))s (pid $pid, port $(comp_ports_desc "$comp"))"
}

# check_ports_free COMP PORT... : refuse to start if a port is taken by
# something that is not a healthy instance of COMP.
check_ports_free() {
  local comp=$1 p; shift
  for p in "$@"; do
    if port_open "$p"; then
      fail_component "$comp" "port 127.0.0.1:$p is in use by another process (pid $(port_owner_pid "$p" || true)) that is not a healthy $comp; stop it or override the port env var (docs/ports.md)"
    fi
  done
}

# If our recorded process is alive but unhealthy, give it a chance, then restart.
settle_own() {
  local comp=$1 pid
  pid=$(comp_pid "$comp") || return 1
  info "$comp: our pid $pid is running but not healthy yet; waiting"
  if WAIT_PID=$pid wait_until "$START_TIMEOUT" "$comp" comp_healthy "$comp"; then
    info "$comp: healthy (pid $pid)"
    return 0
  fi
  warn "$comp: pid $pid still unhealthy; restarting it"
  stop_pid "$comp" "$pid" 30 || fail_component "$comp" "could not stop unhealthy pid $pid"
  return 1
}

# ---------------------------------------------------------------- MariaDB
# -hlocalhost beats $MYSQL_HOST from env.sh, which the client would otherwise honour.
mysql_root() { mysql --no-defaults --protocol=SOCKET -hlocalhost -uroot --socket="$(mysql_socket)" "$@"; }

ensure_mysql_user() {
  local sql="CREATE USER IF NOT EXISTS '$MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'localhost' IDENTIFIED BY '$MYSQL_PASSWORD';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'::1' IDENTIFIED BY '$MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'::1' WITH GRANT OPTION;
FLUSH PRIVILEGES;"
  if mysql --no-defaults --protocol=TCP -h127.0.0.1 -P"$MYSQL_PORT" -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" \
      --connect-timeout=5 -Nse 'SELECT 1' >/dev/null 2>&1; then
    info "mariadb: user '$MYSQL_USER' can log in"
    return 0
  fi
  if [ -S "$(mysql_socket)" ] && mysql_root -e "$sql" 2>"$LOG_DIR/mariadb-user.err"; then
    info "mariadb: created/updated user '$MYSQL_USER'@{127.0.0.1,localhost,::1}"
  else
    cat "$LOG_DIR/mariadb-user.err" >&2 2>/dev/null || true
    fail_component mariadb "user '$MYSQL_USER' cannot log in on 127.0.0.1:$MYSQL_PORT and our root socket $(mysql_socket) is not usable (server started elsewhere? create the user there)"
  fi
  mysql --no-defaults --protocol=TCP -h127.0.0.1 -P"$MYSQL_PORT" -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" \
    -Nse 'SELECT 1' >/dev/null || fail_component mariadb "user '$MYSQL_USER' still cannot log in"
}

up_mariadb() {
  local comp=mariadb datadir="$DATA_DIR/mariadb" pid
  require_bin $comp mariadbd mariadb-install-db mysqladmin mysql
  if ! already_healthy $comp; then
    if ! settle_own $comp ; then
      check_ports_free $comp "$MYSQL_PORT"
      if [ ! -d "$datadir/mysql" ]; then
        info "$comp: initialising datadir $datadir"
        mkdir -p "$datadir"
        mariadb-install-db --no-defaults --user=root --datadir="$datadir" \
          --auth-root-authentication-method=normal --skip-test-db \
          --skip-name-resolve >>"$(log_file $comp)" 2>&1 ||
          { rm -rf "$datadir"; fail_component $comp "mariadb-install-db failed"; }
      fi
      rm -f "$(mysql_socket)"
      info "$comp: starting on 127.0.0.1:$MYSQL_PORT"
      pid=$(start_detached $comp mariadbd --no-defaults --user=root --datadir="$datadir" \
        --port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$(mysql_socket)" \
        --pid-file="$RUN_DIR/mariadbd.pid" --skip-name-resolve \
        --innodb-buffer-pool-size=128M \
        --innodb-flush-log-at-trx-commit=2 --max-connections=300 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --skip-log-bin --performance-schema=OFF)
      wait_ready $comp "$pid"
    fi
  fi
  ensure_mysql_user
}

# ---------------------------------------------------------------- Redis
up_redis() {
  local comp=redis pid
  require_bin $comp redis-server redis-cli
  already_healthy $comp && return 0
  settle_own $comp && return 0
  check_ports_free $comp "$REDIS_PORT"
  mkdir -p "$DATA_DIR/redis"
  info "$comp: starting on 127.0.0.1:$REDIS_PORT"
  pid=$(start_detached $comp redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --dir "$DATA_DIR/redis" --daemonize no --save "" --appendonly no --protected-mode yes \
    --logfile "")
  wait_ready $comp "$pid"
}

# ---------------------------------------------------------------- Kafka
KAFKA_CLUSTER_ID="c2hvcG1lc2gtbG9jYWwtMQ"   # fixed: base64("shopmesh-local-1")

write_kafka_config() {
  local d="$DATA_DIR/kafka"
  mkdir -p "$d/logs"
  cat >"$d/server.properties" <<EOF
# generated by scripts/infra/up.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/logs
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
log.retention.hours=72
log.segment.bytes=67108864
EOF
  # Kafka 4 logs with log4j 2.
  rm -f "$d/log4j.properties"
  cat >"$d/log4j2.properties" <<'EOF'
# generated by scripts/infra/up.sh: INFO to stdout (.shopmesh/logs/kafka.log), noisy loggers at WARN
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.stateChange.name = state.change.logger
logger.stateChange.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
logger.controller.name = kafka.controller
logger.controller.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
logger.storage.name = org.apache.kafka.storage
logger.storage.level = warn
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = warn
EOF
}

up_kafka() {
  local comp=kafka d="$DATA_DIR/kafka" pid
  require_bin $comp java
  ls "$KAFKA_LIBS"/kafka-tools-*.jar >/dev/null 2>&1 ||
    die "kafka: jars missing in $KAFKA_LIBS; run scripts/infra/install.sh"
  if ! already_healthy $comp; then
    if ! settle_own $comp ; then
      check_ports_free $comp "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
      write_kafka_config
      local formatted=""
      if [ ! -f "$d/logs/meta.properties" ]; then
        info "$comp: formatting storage (cluster id $KAFKA_CLUSTER_ID)"
        java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
          -t "$KAFKA_CLUSTER_ID" -c "$d/server.properties" --ignore-formatted \
          >>"$(log_file $comp)" 2>&1 || fail_component $comp "storage format failed"
        formatted=1
      fi
      info "$comp: starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
      pid=$(start_detached $comp java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$d/log4j2.properties" -Dkafka.logs.dir="$LOG_DIR" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$d/server.properties")
      wait_ready $comp "$pid"
      [ -n "$formatted" ] || kafka_upgrade_features
    fi
  fi
  ensure_topics
}

# Data formatted by an older Kafka keeps its metadata.version (and the other feature levels)
# until they are raised: raise them to this release's, as a fresh format would set them.
kafka_upgrade_features() {
  local out release=${KAFKA_VERSION%.*}
  kafka_features() {
    timeout 60 java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.FeatureCommand \
      --bootstrap-server "$KAFKA_BROKERS" "$@" 2>&1
  }
  out=$(kafka_features describe) || fail_component kafka "kafka-features describe failed: $out"
  # "Feature: metadata.version  SupportedMinVersion: 3.3-IV3  SupportedMaxVersion: 4.1-IV1  FinalizedVersionLevel: 3.9-IV0 ..."
  if [[ $out =~ metadata\.version[[:space:]]+SupportedMinVersion:[[:space:]]*[^[:space:]]+[[:space:]]+SupportedMaxVersion:[[:space:]]*([^[:space:]]+)[[:space:]]+FinalizedVersionLevel:[[:space:]]*([^[:space:]]+) ]] &&
      [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]; then
    return 0
  fi
  info "kafka: its data was formatted by an older Kafka: upgrading its features to release $release"
  out=$(kafka_features upgrade --release-version "$release") ||
    fail_component kafka "kafka-features upgrade --release-version $release failed: $out"
  printf '%s\n' "$out" | sed 's/^/  /' >&2
}

ensure_topics() {
  local existing missing=() name parts
  if [ -n "${KAFKA_TOPIC_LIST+x}" ]; then
    existing=$KAFKA_TOPIC_LIST   # from the health check just done
  else
    existing=$(timeout 60 "$INFRA_DIR/kafka-topics.sh" --list 2>&1) ||
      fail_component kafka "cannot list topics: $existing"
  fi
  while read -r name parts _; do
    case $name in ''|\#*) continue ;; esac
    grep -qxF "$name" <<<"$existing" || missing+=("$name:${parts:-3}")
  done <"$INFRA_DIR/topics.txt"
  if [ "${#missing[@]}" -eq 0 ]; then
    info "kafka: all $(grep -cvE '^\s*(#|$)' "$INFRA_DIR/topics.txt") topics from topics.txt exist"
    return 0
  fi
  info "kafka: creating ${#missing[@]} topic(s)"
  # Two JVMs at a time (2 cores); --if-not-exists keeps it idempotent.
  printf '%s\n' "${missing[@]}" | xargs -P 2 -I{} bash -c '
    t=${1%%:*}; p=${1##*:}
    out=$(timeout 60 "$2/kafka-topics.sh" --create --if-not-exists --topic "$t" \
      --partitions "$p" --replication-factor 1 2>&1) || { echo "create $t failed: $out" >&2; exit 1; }
    echo "  created $t ($p partitions)" >&2' _ {} "$INFRA_DIR" ||
    fail_component kafka "topic creation failed"
}

# ---------------------------------------------------------------- Jaeger
write_jaeger_config() {
  mkdir -p "$DATA_DIR/jaeger"
  cat >"$DATA_DIR/jaeger/config.yaml" <<EOF
# generated by scripts/infra/up.sh: in-memory Jaeger v2, loopback only
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_query:
    storage:
      traces: memstore
    # Jaeger's React UI is not in its Go module (the binary serves a placeholder): serve
    # shopmesh's trace view instead (ops/jaeger/ui: search, waterfall, the trace's logs).
    ui:
      assets_path: $SHOPMESH_ROOT/ops/jaeger/ui
    http:
      endpoint: 127.0.0.1:$JAEGER_UI_PORT
    grpc:
      endpoint: 127.0.0.1:$JAEGER_QUERY_GRPC_PORT
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: ${JAEGER_MAX_TRACES:-100000}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$OTLP_GRPC_PORT
      http:
        endpoint: 127.0.0.1:$OTLP_HTTP_PORT
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
}

up_jaeger() {
  local comp=jaeger pid
  require_bin $comp jaeger
  already_healthy $comp && return 0
  settle_own $comp && return 0
  check_ports_free $comp "$JAEGER_UI_PORT" "$JAEGER_QUERY_GRPC_PORT" "$OTLP_GRPC_PORT" "$OTLP_HTTP_PORT"
  write_jaeger_config
  info "$comp: starting (UI/API 127.0.0.1:$JAEGER_UI_PORT, OTLP $OTLP_GRPC_PORT/$OTLP_HTTP_PORT)"
  pid=$(start_detached $comp env GOMEMLIMIT="${JAEGER_GOMEMLIMIT:-768MiB}" \
    "$(command -v jaeger)" --config "$DATA_DIR/jaeger/config.yaml")
  wait_ready $comp "$pid"
}

# ---------------------------------------------------------------- Mailpit
up_mailpit() {
  local comp=mailpit pid
  require_bin $comp mailpit
  already_healthy $comp && return 0
  settle_own $comp && return 0
  check_ports_free $comp "$MAILPIT_UI_PORT" "$SMTP_PORT"
  mkdir -p "$DATA_DIR/mailpit"
  info "$comp: starting (UI/API 127.0.0.1:$MAILPIT_UI_PORT, SMTP 127.0.0.1:$SMTP_PORT)"
  pid=$(start_detached $comp "$(command -v mailpit)" \
    --listen "127.0.0.1:$MAILPIT_UI_PORT" --smtp "127.0.0.1:$SMTP_PORT" \
    --database "$DATA_DIR/mailpit/mailpit.db" --max 5000 \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns \
    --disable-version-check)
  wait_ready $comp "$pid"
}

# ---------------------------------------------------------------- Toxiproxy
# The fault-injection proxy: fault tests create their own proxies (on port 0) in front of
# MariaDB, Redis, Kafka or a service, and cut or slow them. It holds no proxies of its own.
up_toxiproxy() {
  local comp=toxiproxy pid
  require_bin $comp toxiproxy-server
  already_healthy $comp && return 0
  settle_own $comp && return 0
  check_ports_free $comp "$TOXIPROXY_PORT"
  info "$comp: starting (API 127.0.0.1:$TOXIPROXY_PORT)"
  pid=$(start_detached $comp "$(command -v toxiproxy-server)" -host 127.0.0.1 -port "$TOXIPROXY_PORT")
  wait_ready $comp "$pid"
}

# ---------------------------------------------------------------- OpenSearch
# Single node on loopback, so its bootstrap checks (vm.max_map_count, ...) are not enforced.
# OpenSearch refuses to run as root: as root it runs as a system user, from a hard-linked
# copy of the distribution when that user cannot read $SHOPMESH_TOOLS (e.g. under a 0700 ~root).
OPENSEARCH_USER="${OPENSEARCH_USER:-shopmesh-search}"
OPENSEARCH_RUN_AS=()   # prefix that drops root, set by opensearch_user

opensearch_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id -u "$OPENSEARCH_USER" >/dev/null 2>&1; then
    info "opensearch: creating system user $OPENSEARCH_USER"
    # A concurrent up.sh in another checkout may win the race: only its absence is an error.
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$OPENSEARCH_USER" >>"$(log_file opensearch)" 2>&1 ||
      id -u "$OPENSEARCH_USER" >/dev/null 2>&1 ||
      fail_component opensearch "useradd $OPENSEARCH_USER failed"
  fi
  OPENSEARCH_RUN_AS=(setpriv --reuid="$OPENSEARCH_USER" --regid="$OPENSEARCH_USER" --init-groups --)
}

# The JDK for the launcher: $OPENSEARCH_JAVA_HOME, else the `java` on PATH with links resolved.
opensearch_java_home() {
  local jh=${OPENSEARCH_JAVA_HOME:-} java major
  if [ -z "$jh" ]; then
    java=$(readlink -f "$(command -v java)") || return 1
    jh=${java%/bin/java}
  fi
  [ -x "$jh/bin/java" ] || return 1
  major=$("$jh/bin/java" -version 2>&1 | sed -n '1s/^[^"]*"\([0-9]*\).*/\1/p')
  [ "${major:-0}" -ge 11 ] || return 1
  echo "$jh"
}

# The distribution directory the server user can read (prints it).
opensearch_home() {
  local copy="$DATA_DIR/opensearch/dist"
  if [ "${#OPENSEARCH_RUN_AS[@]}" -eq 0 ] ||
      "${OPENSEARCH_RUN_AS[@]}" test -r "$OPENSEARCH_DIST/bin/opensearch"; then
    echo "$OPENSEARCH_DIST"
    return 0
  fi
  if [ "$(cat "$copy/.version" 2>/dev/null)" != "$(cat "$OPENSEARCH_DIST/.version")" ]; then
    rm -rf "$copy" "$copy.tmp"
    # Hard links cost no space; another file system falls back to a real copy (~65 MB).
    cp -al "$OPENSEARCH_DIST" "$copy.tmp" 2>/dev/null ||
      { rm -rf "$copy.tmp"; cp -a "$OPENSEARCH_DIST" "$copy.tmp"; } ||
      fail_component opensearch "cannot copy $OPENSEARCH_DIST to $copy"
    mv "$copy.tmp" "$copy"
  fi
  echo "$copy"
}

write_opensearch_config() {
  local d="$DATA_DIR/opensearch"
  mkdir -p "$d/config/jvm.options.d" "$d/data" "$d/logs" "$d/tmp"
  cat >"$d/config/opensearch.yml" <<EOF
# generated by scripts/infra/up.sh: one node on loopback, no security plugin (plain HTTP)
cluster.name: shopmesh-local
node.name: shopmesh-local
path.data: $d/data
path.logs: $d/logs
network.host: 127.0.0.1
http.port: $OPENSEARCH_PORT
transport.port: $OPENSEARCH_TRANSPORT_PORT-$((OPENSEARCH_TRANSPORT_PORT + 99))
discovery.type: single-node
# a fairly full disk must not turn indices read-only
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  # The distribution's jvm.options with absolute paths (the launcher runs in its home),
  # without its heap (OPENSEARCH_JAVA_OPTS sets it) and without its 2 GB of GC log files.
  cat >"$d/config/jvm.options" <<EOF
# generated by scripts/infra/up.sh
11-:-XX:+UseG1GC
11-:-XX:G1ReservePercent=25
11-:-XX:InitiatingHeapOccupancyPercent=30
-Djava.io.tmpdir=\${OPENSEARCH_TMPDIR}
-XX:+ExitOnOutOfMemoryError
-XX:ErrorFile=$d/logs/hs_err_pid%p.log
18-:-Djava.security.manager=allow
20-:--add-modules=jdk.incubator.vector
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
EOF
  cat >"$d/config/log4j2.properties" <<'EOF'
# generated by scripts/infra/up.sh: everything to stdout (.shopmesh/logs/opensearch.log)
status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
# deprecation warnings also go back to the client as Warning headers
appender.header_warning.type = HeaderWarningAppender
appender.header_warning.name = header_warning
logger.deprecation.name = org.opensearch.deprecation
logger.deprecation.level = deprecation
logger.deprecation.appenderRef.console.ref = console
logger.deprecation.appenderRef.header_warning.ref = header_warning
logger.deprecation.additivity = false
EOF
  if [ "${#OPENSEARCH_RUN_AS[@]}" -gt 0 ]; then
    chown -R "$OPENSEARCH_USER:$OPENSEARCH_USER" "$d/config" "$d/data" "$d/logs" "$d/tmp"
  fi
}

up_opensearch() {
  local comp=opensearch d="$DATA_DIR/opensearch" pid jh home
  [ -x "$OPENSEARCH_DIST/bin/opensearch" ] ||
    die "opensearch: distribution missing in $OPENSEARCH_DIST; run scripts/infra/install.sh"
  already_healthy $comp && return 0
  settle_own $comp && return 0
  check_ports_free $comp "$OPENSEARCH_PORT"
  jh=$(opensearch_java_home) ||
    die "opensearch: no JDK >= 11 found (set OPENSEARCH_JAVA_HOME or put java on PATH)"
  opensearch_user
  write_opensearch_config
  home=$(opensearch_home) || exit 1
  if [ "${#OPENSEARCH_RUN_AS[@]}" -gt 0 ] && ! { "${OPENSEARCH_RUN_AS[@]}" test -w "$d/data" &&
      "${OPENSEARCH_RUN_AS[@]}" test -r "$home/lib"; }; then
    fail_component $comp "user $OPENSEARCH_USER cannot use $d (is a parent directory not traversable?)"
  fi
  info "$comp: starting on 127.0.0.1:$OPENSEARCH_PORT (heap ${OPENSEARCH_HEAP:-512m}${OPENSEARCH_RUN_AS[*]:+, as $OPENSEARCH_USER})"
  pid=$(start_detached $comp env HOME="$d" OPENSEARCH_JAVA_HOME="$jh" OPENSEARCH_PATH_CONF="$d/config" \
    OPENSEARCH_TMPDIR="$d/tmp" OPENSEARCH_JAVA_OPTS="-Xms${OPENSEARCH_HEAP:-512m} -Xmx${OPENSEARCH_HEAP:-512m}" \
    "${OPENSEARCH_RUN_AS[@]}" "$home/bin/opensearch")
  wait_ready $comp "$pid"
}

# ---------------------------------------------------------------- Prometheus
# Scrapes every service and Envoy (ops/prometheus/prometheus.local.yml, generated from the
# topology) and serves the shop's dashboard (ops/prometheus/dashboard) at /user/. A healthy
# instance is reused, and told to reload its configuration (it may predate a regeneration).
up_prometheus() {
  local comp=prometheus d="$DATA_DIR/prometheus" pid
  require_bin $comp prometheus
  if already_healthy $comp; then
    curl -fsS --max-time 5 -X POST "http://127.0.0.1:$PROMETHEUS_PORT/-/reload" >/dev/null 2>&1 ||
      warn "$comp: could not reload its configuration (started without --web.enable-lifecycle?)"
    return 0
  fi
  settle_own $comp && return 0
  check_ports_free $comp "$PROMETHEUS_PORT"
  mkdir -p "$d"
  info "$comp: starting (API 127.0.0.1:$PROMETHEUS_PORT, dashboard http://127.0.0.1:$PROMETHEUS_PORT/user/)"
  pid=$(start_detached $comp "$(command -v prometheus)" \
    --config.file="$SHOPMESH_ROOT/ops/prometheus/prometheus.local.yml" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.user-assets="$SHOPMESH_ROOT/ops/prometheus/dashboard" \
    --web.enable-lifecycle \
    --storage.tsdb.path="$d" --storage.tsdb.retention.time=2d --storage.tsdb.retention.size=512MB)
  wait_ready $comp "$pid"
}

# ---------------------------------------------------------------- main
T0=$SECONDS
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${COMPONENTS[@]}")
for c in "${targets[@]}"; do
  case " ${COMPONENTS[*]} " in *" $c "*) ;; *) die "unknown component '$c' (known: ${COMPONENTS[*]})" ;; esac
done
# Exclusive per checkout: two concurrent up.sh runs would race on pid files.
exec 8>"$RUN_DIR/.up.lock"
flock -w 300 8 || die "another up.sh is running in this checkout"

for c in "${targets[@]}"; do "up_$c"; done
info "up: done in $((SECONDS - T0))s (status: scripts/infra/status.sh)"
