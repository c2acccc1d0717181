package io.pgcdc.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * ./run-benchmarks.sh: every workload through our source and Debezium's, our sink and Debezium's
 * JDBC sink, against the decoding and writing ceilings, then the end-to-end latency; prints the
 * table and writes it to BENCHMARKS.md.
 */
public final class Benchmarks {

    /** The warm-up's size, as a share of the measured run's. */
    private static final double WARM_UP_SHARE = 0.2;

    private Benchmarks() {
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        String pluginPath = System.getProperty("pgcdc.plugin.path");
        if (pluginPath == null) {
            throw new IllegalStateException("Run through ./run-benchmarks.sh (it sets -Dpgcdc.plugin.path)");
        }
        Report report = new Report(options.scale(), Machine.describe());
        try (TestBed bed = TestBed.start(pluginPath)) {
            report.setPostgres(bed.oltp().queryValue("SHOW server_version"));
            boolean first = true;
            for (Workload workload : options.workloads()) {
                // Every contender's code for this workload's shape of data (and the worker's, the broker's, the
                // converter's) is compiled by the JIT before anything is timed; otherwise the first contender to
                // run pays for it: the compiler took 29-44% of a core during pgcdc's inserts after a 5% warm-up.
                // The first workload warms up twice: code that runs once per produce request or per fetch (the
                // broker's log validation, its network threads) reached the compiler's thresholds only in the
                // first measured run after one round, and the compiler then took 3.7 s of our source's 5 s.
                for (int round = 1; round <= (first ? 2 : 1); round++) {
                    System.out.print("Warm-up, not reported: ");
                    measure(bed, workload, workload.table() + "_warm_up" + round,
                            workload.rows(options.scale() * WARM_UP_SHARE));
                }
                first = false;
                report.add(measure(bed, workload, workload.table(), workload.rows(options.scale())));
                System.out.println(report.lastLines());
            }
            // Latency at a steady load is measured on a settled server and heap: PostgreSQL's checkpoint and G1's
            // collections of what the workloads left would otherwise fall into it.
            bed.oltp().execute("CHECKPOINT");
            System.gc();
            Duration latencyDuration = Duration.ofSeconds(Math.max(10, Math.round(60 * options.scale())));
            System.out.println("Latency: offering " + LatencyBenchmark.ROWS_PER_SECOND + " rows/s for "
                    + latencyDuration.toSeconds() + " s ...");
            report.setLatency(new LatencyBenchmark(bed).run(latencyDuration));
        }
        Path out = Path.of(System.getProperty("pgcdc.benchmarks.output", "BENCHMARKS.md"));
        report.write(out);
        System.out.println();
        System.out.println(report.markdown());
        System.out.println("Written to " + out.toAbsolutePath());
    }

    /** @param table names the workload's tables, slots, topics and connectors: a name is not reused within a run */
    private static Report.Row measure(TestBed bed, Workload workload, String table, long rows) throws Exception {
        String publication = "bench_" + table;
        List<String> targets = List.of(SinkBenchmark.pgcdcTarget(table), SinkBenchmark.pgcdcStructsTarget(table),
                SinkBenchmark.debeziumTarget(table),
                SinkBenchmark.directTarget(table));
        System.out.println(workload.id() + ": " + workload.description() + " (" + String.format("%,d", rows) + " rows) ...");
        bed.oltp().execute(Workload.ddl(table));
        workload.prefill(bed.oltp(), table, rows);
        bed.oltp().execute("CREATE PUBLICATION " + publication + " FOR TABLE " + table);
        for (String slot : SourceBenchmark.slots(table)) {
            bed.oltp().execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        }
        for (String target : targets) {
            bed.olap().execute(Workload.ddl(target));
            if (SinkBenchmark.isPgcdcTarget(target)) {
                bed.olap().execute(Workload.POSITION_COLUMN.formatted(target));
            }
            workload.prefill(bed.olap(), target, rows);
            // Hint bits and the visibility map set now, not by the first contender to update the rows
            // (or by autovacuum while it runs): every sink starts on a table in the same state.
            bed.olap().execute("VACUUM (FREEZE, ANALYZE) " + target);
        }
        for (String topic : SourceBenchmark.topics(table)) {
            bed.topics().create(topic);
        }

        workload.run(bed.oltp(), table, rows);

        SourceBenchmark.Result source = new SourceBenchmark(bed).run(table, publication, rows);
        dropSlots(bed, table);
        SinkBenchmark.Result sink = new SinkBenchmark(bed).run(table, rows, workload.finalVersion());

        // Disk: a full run would otherwise keep every workload's tables and topics.
        bed.oltp().execute("DROP PUBLICATION " + publication, "DROP TABLE " + table);
        for (String target : targets) {
            bed.olap().execute("DROP TABLE " + target);
        }
        for (String topic : SourceBenchmark.topics(table)) {
            bed.topics().delete(topic);
        }
        return new Report.Row(workload, rows, source, sink);
    }

    /** A deleted connector's task lets go of its slot shortly after; a slot left behind would hold WAL. */
    private static void dropSlots(TestBed bed, String table) throws Exception {
        List<String> left = new ArrayList<>(SourceBenchmark.slots(table));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!left.isEmpty()) {
            String slot = left.get(0);
            String active = bed.oltp().queryValue("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
            if (active == null) {
                left.remove(0);
            } else if ("f".equals(active)) {
                bed.oltp().execute("SELECT pg_drop_replication_slot('" + slot + "')");
                left.remove(0);
            } else if (System.nanoTime() > deadline) {
                System.err.println("Slot " + slot + " still in use after 60 s; left behind");
                left.remove(0);
            } else {
                TestBed.sleep(200);
            }
        }
    }
}
