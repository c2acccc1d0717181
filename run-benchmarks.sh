#!/usr/bin/env bash
# The benchmarks (issue 7): our source and sink against Debezium's PostgreSQL connector and JDBC sink,
# and against the ceilings (a pgjdbc reader that discards what it decodes; the JSON-array upsert over
# plain JDBC), on one throwaway PostgreSQL and one in-JVM Kafka broker + Connect worker. Builds what it
# needs, prints the figures and writes them to BENCHMARKS.md. A full run (scale 1) takes 20-30 minutes
# on 2 cores. PostgreSQL's server binaries come from Maven Central, of the major version
# --postgres-version names (12 to 18; the build's default otherwise).
#   ./run-benchmarks.sh [--scale=0.01..1] [--workloads=inserts,updates,one-transaction,concurrent,jsonb-4k]
#                       [--postgres-version=NN]
set -euo pipefail
cd "$(dirname "$0")"

postgres=() args=()
for arg in "$@"; do
  case "$arg" in
    --postgres-version=*) postgres=("-Dpostgres.version=${arg#*=}") ;;
    *) args+=("$arg") ;;
  esac
done

# The reactor builds both plugins, Debezium's plugin directories and the benchmark; nothing is installed.
mvn -B -q -Pbenchmarks -pl benchmarks -am -DskipTests "${postgres[@]}" package
plugins="$(ls -d "$PWD"/connector-source/target/pgcdc-connector-source-*/ | head -n 1),$(ls -d "$PWD"/connector-sink/target/pgcdc-connector-sink-*/ | head -n 1)"
# A plugin.path entry holds plugin directories: .../target/plugins/debezium-postgres and debezium-jdbc.
plugins="$plugins,$PWD/benchmarks/debezium-postgres-plugin/target/plugins,$PWD/benchmarks/debezium-jdbc-plugin/target/plugins"
# The heap is fixed and touched at start, as a worker's should be: a heap that may shrink does so at the
# full collection before each contender, and G1 then collects far more often (docs/benchmarks.md).
exec java -Xms3g -Xmx3g -XX:+AlwaysPreTouch "${postgres[@]}" \
  -Dpgcdc.plugin.path="$plugins" \
  -Dpgcdc.benchmarks.output="$PWD/BENCHMARKS.md" \
  -Dlog4j2.configurationFile=log4j2-benchmarks.xml \
  -cp "$(cat benchmarks/target/classpath.txt):benchmarks/target/classes" \
  io.pgcdc.benchmarks.Benchmarks "${args[@]}"
