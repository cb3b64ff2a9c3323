#!/usr/bin/env bash
# Wrapper around Kafka's TopicCommand (org.apache.kafka.tools.TopicCommand) using
# the jars installed by install.sh. --bootstrap-server defaults to $KAFKA_BROKERS.
#   scripts/infra/kafka-topics.sh --list
#   scripts/infra/kafka-topics.sh --describe --topic shopmesh.order.v1
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
[ -d "$KAFKA_LIBS" ] || die "kafka jars missing in $KAFKA_LIBS: run scripts/infra/install.sh"
for a in "$@"; do
  if [ "$a" = --bootstrap-server ]; then
    exec java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand "$@"
  fi
done
exec java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
  --bootstrap-server "$KAFKA_BROKERS" "$@"
