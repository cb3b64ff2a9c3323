# shellcheck shell=bash
# Sourceable: `source scripts/infra/env.sh` (bash or zsh).
# Exports tool paths and connection defaults for the local shopmesh infrastructure.
# Every value can be overridden by exporting it before sourcing.

if [ -n "${BASH_SOURCE[0]:-}" ]; then
  _shopmesh_env_file="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
  # shellcheck disable=SC2296
  _shopmesh_env_file="${(%):-%x}"
else
  _shopmesh_env_file="$0"
fi
SHOPMESH_ROOT="$(cd "$(dirname "$_shopmesh_env_file")/../.." && pwd)"
unset _shopmesh_env_file
export SHOPMESH_ROOT

# Tool cache outside the repo (shared between clones on this machine).
export SHOPMESH_TOOLS="${SHOPMESH_TOOLS:-$HOME/.cache/shopmesh/tools}"
# Runtime state (data, logs, pids) inside the repo's ignored folder.
export SHOPMESH_STATE="${SHOPMESH_STATE:-$SHOPMESH_ROOT/.shopmesh}"

case ":$PATH:" in
  *":$SHOPMESH_TOOLS/bin:"*) ;;
  *) export PATH="$SHOPMESH_TOOLS/bin:$PATH" ;;
esac
# The Node of .nvmrc first on PATH when the machine's is older (once install-node.sh has run).
# shellcheck source=node.sh
. "$SHOPMESH_ROOT/scripts/infra/node.sh" || true

# --- ports (docs/ports.md; the defaults are the topology's, platform/src/topology.ts: test/topology checks them) ---
export MYSQL_PORT="${MYSQL_PORT:-3306}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
export JAEGER_UI_PORT="${JAEGER_UI_PORT:-16686}"
export JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16685}"
export OTLP_GRPC_PORT="${OTLP_GRPC_PORT:-4317}"
export OTLP_HTTP_PORT="${OTLP_HTTP_PORT:-4318}"
export MAILPIT_UI_PORT="${MAILPIT_UI_PORT:-8025}"
export SMTP_PORT="${SMTP_PORT:-1025}"
export TOXIPROXY_PORT="${TOXIPROXY_PORT:-8474}"
export OPENSEARCH_PORT="${OPENSEARCH_PORT:-9200}"
export OPENSEARCH_TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-9300}"
export PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
export EDGE_PORT="${EDGE_PORT:-8080}"
export ENVOY_ADMIN_PORT="${ENVOY_ADMIN_PORT:-9901}"

# --- connection defaults ---
export MYSQL_HOST="${MYSQL_HOST:-127.0.0.1}"
export MYSQL_USER="${MYSQL_USER:-shopmesh}"
export MYSQL_PASSWORD="${MYSQL_PASSWORD:-shopmesh}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
export REDIS_URL="${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export OTLP_GRPC_ENDPOINT="${OTLP_GRPC_ENDPOINT:-http://127.0.0.1:$OTLP_GRPC_PORT}"
export OTLP_HTTP_ENDPOINT="${OTLP_HTTP_ENDPOINT:-http://127.0.0.1:$OTLP_HTTP_PORT}"
export JAEGER_URL="${JAEGER_URL:-http://127.0.0.1:$JAEGER_UI_PORT}"
export SMTP_HOST="${SMTP_HOST:-127.0.0.1}"
export MAILPIT_URL="${MAILPIT_URL:-http://127.0.0.1:$MAILPIT_UI_PORT}"
export TOXIPROXY_URL="${TOXIPROXY_URL:-http://127.0.0.1:$TOXIPROXY_PORT}"
export OPENSEARCH_URL="${OPENSEARCH_URL:-http://127.0.0.1:$OPENSEARCH_PORT}"
export PROMETHEUS_URL="${PROMETHEUS_URL:-http://127.0.0.1:$PROMETHEUS_PORT}"
