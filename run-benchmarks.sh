#!/usr/bin/env bash
# The benchmarks (issue 7): our source and sink against Debezium's PostgreSQL connector and JDBC sink,
# and against the ceilings (pg_recvlogical; the JSON-array upsert over plain JDBC), on one throwaway
# PostgreSQL and one in-JVM Kafka broker + Connect worker. Builds what it needs, prints the figures
# and writes them to BENCHMARKS.md. A full run (scale 1) takes about 30 minutes on 2 cores.
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
# The heap is fixed and touched at start, as a worker's should be. A heap that may grow and shrink
# (its committed size swung between 0.3 and 1.6 GB, shrinking at the full collection before each
# contender) made G1 collect 313 times over the jsonb workload instead of 38, and the source's JVM
# spend 153 ms per 1,000 rows against 99 (10.3k against 15.2k rows/s; Debezium's 7.2k against 7.9k).
exec java -Xms3g -Xmx3g -XX:+AlwaysPreTouch \
  -Dpgcdc.plugin.path="$plugins" \
  -Dpgcdc.benchmarks.output="$PWD/BENCHMARKS.md" \
  -Dlog4j2.configurationFile=log4j2-benchmarks.xml \
  -cp "$(cat benchmarks/target/classpath.txt):benchmarks/target/classes" \
  io.pgcdc.benchmarks.Benchmarks "$@"
