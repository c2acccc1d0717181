#!/usr/bin/env bash
# The live pipeline on this machine, no Docker: builds both plugins, then starts a throwaway
# OLTP and OLAP PostgreSQL, a Kafka broker and a Connect worker (plugins from their packaged
# directories, REST on a local port, JMX on 127.0.0.1:9999), registers the connectors from
# config-examples/ through REST, runs a time-tracking workload with progress, and checks that
# the OLAP team totals equal the OLTP ones. Ctrl-C stops everything it started.
#   ./run-pipeline.sh [--duration=SECONDS] [--writers=N] [--large-transaction=ROWS]
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v initdb >/dev/null 2>&1; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$pgbin" ] || { echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15" >&2; exit 1; }
  export PATH="$pgbin:$PATH"
fi

mvn -B -q -DskipTests install
plugins="$(ls -d "$PWD"/connector-source/target/pgcdc-connector-source-*/ | head -n 1),$(ls -d "$PWD"/connector-sink/target/pgcdc-connector-sink-*/ | head -n 1)"
exec java \
  -Dpgcdc.plugin.path="$plugins" \
  -Dpgcdc.config.examples="$PWD/config-examples" \
  -Dlog4j2.configurationFile=log4j2-quickstart.xml \
  -Dcom.sun.management.jmxremote.port=9999 -Dcom.sun.management.jmxremote.rmi.port=9999 \
  -Dcom.sun.management.jmxremote.host=127.0.0.1 -Djava.rmi.server.hostname=127.0.0.1 \
  -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false \
  -cp "$(cat quickstart/target/classpath.txt):quickstart/target/classes" \
  io.pgcdc.quickstart.Quickstart "$@"
