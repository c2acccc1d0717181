#!/usr/bin/env bash
# The benchmarks (issue 7): our source and sink against Debezium's PostgreSQL connector and JDBC sink,
# and against the ceilings (pg_recvlogical; the JSON-array upsert over plain JDBC), on one throwaway
# PostgreSQL and one in-JVM Kafka broker + Connect worker. Builds what it needs, prints the figures
# and writes them to BENCHMARKS.md. A full run (scale 1) takes 20-30 minutes on 2 cores.
#   ./run-benchmarks.sh [--scale=0.01..1] [--workloads=inserts,updates,one-transaction,concurrent,jsonb-4k]
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v initdb >/dev/null 2>&1 || ! command -v pg_recvlogical >/dev/null 2>&1; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$pgbin" ] || { echo "PostgreSQL server binaries (initdb, pg_ctl, pg_recvlogical) not found: install PostgreSQL 15" >&2; exit 1; }
  export PATH="$pgbin:$PATH"
fi

# The reactor builds both plugins, Debezium's plugin directories and the benchmark; nothing is installed.
mvn -B -q -Pbenchmarks -pl benchmarks -am -DskipTests package
plugins="$(ls -d "$PWD"/connector-source/target/pgcdc-connector-source-*/ | head -n 1),$(ls -d "$PWD"/connector-sink/target/pgcdc-connector-sink-*/ | head -n 1)"
# A plugin.path entry holds plugin directories: .../target/plugins/debezium-postgres and debezium-jdbc.
plugins="$plugins,$PWD/benchmarks/debezium-postgres-plugin/target/plugins,$PWD/benchmarks/debezium-jdbc-plugin/target/plugins"
# The heap is fixed and touched at start, as a worker's should be: a heap that may shrink does so at the
# full collection before each contender, and G1 then collects far more often (README, "The worker's heap").
exec java -Xms3g -Xmx3g -XX:+AlwaysPreTouch \
  -Dpgcdc.plugin.path="$plugins" \
  -Dpgcdc.benchmarks.output="$PWD/BENCHMARKS.md" \
  -Dlog4j2.configurationFile=log4j2-benchmarks.xml \
  -cp "$(cat benchmarks/target/classpath.txt):benchmarks/target/classes" \
  io.pgcdc.benchmarks.Benchmarks "$@"
