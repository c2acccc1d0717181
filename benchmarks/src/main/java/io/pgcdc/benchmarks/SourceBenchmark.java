package io.pgcdc.benchmarks;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Drains one workload's backlog with each source contender in turn, each from its own slot created
 * before the workload, so all of them decode the same WAL with nothing else running.
 */
final class SourceBenchmark {

    /**
     * @param pgcdcCached    pgcdc writing through its SchemaCachingJsonConverter (the same bytes as JsonConverter)
     * @param debeziumCached Debezium writing through the same converter
     */
    record Result(Measurement pgcdc, Measurement debezium, Measurement recvlogical, Measurement pgcdcCached,
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
        return List.of("pgcdc_" + table, "dbz_" + table, "recv_" + table, "pgcdcc_" + table, "dbzc_" + table);
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

    /** @param endLsn the WAL position after the workload's last commit */
    Result run(String table, String publication, long rows, String endLsn) {
        Measurement recvlogical = recvlogical("recv_" + table, publication, rows, endLsn);
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
        return new Result(pgcdc, debezium, recvlogical, pgcdcCached, debeziumCached);
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

    /** The decoding ceiling: the server decodes into a client that throws everything away. */
    private Measurement recvlogical(String slot, String publication, long rows, String endLsn) {
        ProcessBuilder command = new ProcessBuilder("pg_recvlogical", "-h", bed.server().host(),
                "-p", String.valueOf(bed.server().port()), "-U", "postgres", "-d", bed.oltp().name(), "--slot", slot,
                "--start", "--endpos", endLsn, "--no-loop", "-o", "proto_version=1", "-o", "publication_names=" + publication,
                "-f", "/dev/null").redirectErrorStream(true);
        QuietCompiler.await();
        try (CpuCost cpu = CpuCost.walsender(bed.oltp(), slot)) {
            long start = System.nanoTime();
            Process process = command.start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(timeout(rows).toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return Measurement.failed("pg_recvlogical timed out");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            CpuCost.Seconds cpuSeconds = cpu.stop();
            if (process.exitValue() != 0) {
                return Measurement.failed("pg_recvlogical exited " + process.exitValue() + ": " + output.strip());
            }
            return Measurement.of(rows, seconds, null).withCpu(cpuSeconds, rows, false);
        } catch (IOException | SQLException e) {
            return Measurement.failed("cannot run pg_recvlogical: " + e.getMessage());
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
