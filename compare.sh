#!/usr/bin/env bash
# The cutover check: compares each source table with its copy on the target (row counts and an
# order-independent checksum, computed on each server) and reports the replication slot's lag.
# Exit 0: all tables equal; 1: some differ; 2: could not compare. Run it after stopping the writes
# to the source; --wait compares again until equal or the time has passed.
#   ./compare.sh --source=JDBC_URL --target=JDBC_URL [--tables=REGEX,...]
#                [--table-format=${source.schema}.${source.table}] [--slot=NAME] [--wait=SECONDS]
set -euo pipefail
cd "$(dirname "$0")"

mvn -B -q -pl cutover -am -DskipTests package
exec java -cp "$(cat cutover/target/classpath.txt):cutover/target/classes" io.pgcdc.cutover.CompareCommand "$@"
