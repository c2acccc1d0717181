#!/usr/bin/env bash
# The live pipeline on this machine, no Docker: builds both plugins, then starts a throwaway
# OLTP and OLAP PostgreSQL, a Kafka broker and a Connect worker (plugins from their packaged
# directories, REST on a local port, JMX on 127.0.0.1:9999), registers the connectors from
# config-examples/ through REST, runs a time-tracking workload with progress, and checks that
# the OLAP team totals equal the OLTP ones. Ctrl-C stops everything it started.
# PostgreSQL's server binaries come from Maven Central, of the major version --postgres-version names
# (12 to 18; the build's default otherwise).
#   ./run-pipeline.sh [--duration=SECONDS] [--writers=N] [--large-transaction=ROWS] [--postgres-version=NN]
set -euo pipefail
cd "$(dirname "$0")"

postgres=() args=()
for arg in "$@"; do
  case "$arg" in
    --postgres-version=*) postgres=("-Dpostgres.version=${arg#*=}") ;;
    *) args+=("$arg") ;;
  esac
done

mvn -B -q -DskipTests "${postgres[@]}" install
plugins="$(ls -d "$PWD"/connector-source/target/pgcdc-connector-source-*/ | head -n 1),$(ls -d "$PWD"/connector-sink/target/pgcdc-connector-sink-*/ | head -n 1)"
exec java "${postgres[@]}" \
  -Dpgcdc.plugin.path="$plugins" \
  -Dpgcdc.config.examples="$PWD/config-examples" \
  -Dlog4j2.configurationFile=log4j2-quickstart.xml \
  -Dcom.sun.management.jmxremote.port=9999 -Dcom.sun.management.jmxremote.rmi.port=9999 \
  -Dcom.sun.management.jmxremote.host=127.0.0.1 -Djava.rmi.server.hostname=127.0.0.1 \
  -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false \
  -cp "$(cat quickstart/target/classpath.txt):quickstart/target/classes" \
  io.pgcdc.quickstart.Quickstart "${args[@]}"
