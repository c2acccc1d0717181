package io.pgcdc.benchmarks;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Drains one workload's backlog with each source contender in turn, each from its own slot created
 * before the workload, so all of them decode the same WAL with nothing else running.
 */
final class SourceBenchmark {

    /**
     * @param pgcdcCached    pgcdc writing through its SchemaCachingJsonConverter (the same bytes as JsonConverter)
     * @param debeziumCached Debezium writing through the same converter
     */
    record Result(Measurement pgcdc, Measurement debezium, Measurement ceiling, Measurement pgcdcCached,
            Measurement debeziumCached) { }

    static final String PGCDC = "pgcdc";
    private static final String DEBEZIUM = "dbz";
    private static final String PGCDC_CACHED = "pgcdcc";
    private static final String DEBEZIUM_CACHED = "dbzc";

    private final TestBed bed;

    SourceBenchmark(TestBed bed) {
        this.bed = bed;
    }

    static List<String> slots(String table) {
        return List.of("pgcdc_" + table, "dbz_" + table, "ceiling_" + table, "pgcdcc_" + table, "dbzc_" + table);
    }

    static List<String> topics(String table) {
        return List.of(pgcdcTopic(table), debeziumTopic(table), topic(PGCDC_CACHED, table), topic(DEBEZIUM_CACHED, table));
    }

    static String pgcdcTopic(String table) {
        return topic(PGCDC, table);
    }

    static String debeziumTopic(String table) {
        return topic(DEBEZIUM, table);
    }

    private static String topic(String prefix, String table) {
        return prefix + ".public." + table;
    }

    Result run(String table, String publication, long rows) {
        Measurement ceiling = ceiling("ceiling_" + table, publication, rows);
        Measurement pgcdc = connector("pgcdc-source-" + table, "pgcdc_" + table,
                Contenders.pgcdcSource(bed.oltp(), "pgcdc_" + table, publication, table, PGCDC), pgcdcTopic(table), rows);
        Measurement debezium = connector("debezium-source-" + table, "dbz_" + table,
                Contenders.debeziumSource(bed.oltp(), "dbz_" + table, publication, table, DEBEZIUM), debeziumTopic(table), rows);
        Measurement pgcdcCached = connector("pgcdc-cached-source-" + table, "pgcdcc_" + table,
                Contenders.withSchemaCachingConverter(
                        Contenders.pgcdcSource(bed.oltp(), "pgcdcc_" + table, publication, table, PGCDC_CACHED)),
                topic(PGCDC_CACHED, table), rows);
        Measurement debeziumCached = connector("debezium-cached-source-" + table, "dbzc_" + table,
                Contenders.withSchemaCachingConverter(
                        Contenders.debeziumSource(bed.oltp(), "dbzc_" + table, publication, table, DEBEZIUM_CACHED)),
                topic(DEBEZIUM_CACHED, table), rows);
        return new Result(pgcdc, debezium, ceiling, pgcdcCached, debeziumCached);
    }

    /**
     * Rows/s from the first to the last record landing in Kafka: the connector's start-up is not
     * counted in the rate. Its CPU is, from the connector's creation to its deletion.
     */
    private Measurement connector(String name, String slot, Map<String, String> config, String topic, long rows) {
        QuietCompiler.await();
        HeapPeak.reset();
        try (CpuCost cpu = CpuCost.walsender(bed.oltp(), slot)) {
            bed.runConnector(name, config, timeout(rows), () -> bed.topics().count(topic) >= rows);
            CpuCost.Seconds cpuSeconds = cpu.stop();
            HeapPeak.Peaks heap = HeapPeak.read();
            Topics.Span span = bed.topics().span(topic, rows - 1);
            return Measurement.of(rows, span.seconds(), heap).withCpu(cpuSeconds, rows, true);
        } catch (SQLException | RuntimeException e) {
            return Measurement.failed(e.getMessage());
        }
    }

    /** The decoding ceiling, timed from connecting to the slot: see {@link DecodingCeiling}. */
    private Measurement ceiling(String slot, String publication, long rows) {
        QuietCompiler.await();
        try (CpuCost cpu = CpuCost.walsender(bed.oltp(), slot)) {
            double seconds = DecodingCeiling.drain(bed.oltp(), slot, publication, rows, timeout(rows));
            return Measurement.of(rows, seconds, null).withCpu(cpu.stop(), rows, false);
        } catch (SQLException | RuntimeException e) {
            return Measurement.failed("pgjdbc reader: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Measurement.failed("interrupted");
        }
    }

    /** Generous: a contender slower than 500 rows/s on top of two minutes' start-up has a problem worth a line of its own. */
    static Duration timeout(long rows) {
        return Duration.ofSeconds(120 + rows / 500);
    }
}
