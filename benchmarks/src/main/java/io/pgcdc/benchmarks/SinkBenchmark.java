package io.pgcdc.benchmarks;

import java.io.IOException;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

/**
 * Runs each sink contender from the beginning of the topic our source filled into a table of its
 * own, and the direct JDBC JSON-array upsert of the same rows with no Kafka at all.
 */
final class SinkBenchmark {

    /** pgcdc reading JsonConverter's bytes itself, and pgcdc given Structs by the worker's JsonConverter. */
    record Result(Measurement pgcdc, Measurement pgcdcStructs, Measurement debezium, Measurement direct) { }

    private static final JsonFactory JSON = new JsonFactory();
    /** The sink's bound on one statement's values (StatementChunks), and what it counts for a row besides its document. */
    private static final long STATEMENT_CHARS = 8L << 20;
    private static final int ROW_CHARS = 105;
    /** The sink's PgDialect.KEEP_STATEMENT_MEMORY: without it, the statements' memory is faulted in afresh each time. */
    private static final String KEEP_STATEMENT_MEMORY = "SELECT length(repeat('x', " + ((32 << 20) - (64 << 10)) + "))";

    private final TestBed bed;

    SinkBenchmark(TestBed bed) {
        this.bed = bed;
    }

    static String pgcdcTarget(String table) {
        return "pgcdc_" + table;
    }

    static String pgcdcStructsTarget(String table) {
        return "pgcdcs_" + table;
    }

    /** Whether a target is one of our sink's (bytes or Structs path). */
    static boolean isPgcdcTarget(String target) {
        return target.startsWith("pgcdc_") || target.startsWith("pgcdcs_");
    }

    static String debeziumTarget(String table) {
        return "dbz_" + table;
    }

    static String directTarget(String table) {
        return "direct_" + table;
    }

    Result run(String table, long rows, int finalVersion) {
        String topic = SourceBenchmark.pgcdcTopic(table);
        // Rows are applied in topic order, a batch at a time: the last record's row is visible with all of them.
        Ends ends = new Ends(id(topic, rows - 1), finalVersion);
        Measurement pgcdc = connector("pgcdc-sink-" + table, Contenders.pgcdcSink(bed.olap(), topic, pgcdcTarget(table), true),
                pgcdcTarget(table), rows, ends);
        Measurement pgcdcStructs = connector("pgcdc-structs-sink-" + table,
                Contenders.pgcdcSink(bed.olap(), topic, pgcdcStructsTarget(table), false), pgcdcStructsTarget(table), rows,
                ends);
        Measurement debezium = connector("debezium-sink-" + table,
                Contenders.debeziumSink(bed.olap(), topic, debeziumTarget(table)), debeziumTarget(table), rows, ends);
        return new Result(pgcdc, pgcdcStructs, debezium, direct(table, rows));
    }

    /** The id of the topic's last record, and the version every row has once written. */
    private record Ends(long lastId, int finalVersion) { }

    private long id(String topic, long offset) {
        try (JsonConverter keys = new JsonConverter()) {
            keys.configure(Map.of("schemas.enable", "true"), true);
            Struct key = (Struct) keys.toConnectData(topic, bed.topics().keyAt(topic, offset)).value();
            return key.getInt64("id");
        }
    }

    /**
     * Rows/s from the commit of the first transaction that wrote rows until the commit of the last, as the target's
     * rows' commit timestamps tell (the server tracks them): start-up is not counted, and neither are the rows of
     * that first transaction, whose start nobody sees. The end is awaited by looking up the last record's row by
     * its key: counting the table's rows as they come would take a scan of it, several times a second, from the CPU
     * the sink and PostgreSQL share.
     */
    private Measurement connector(String name, Map<String, String> config, String target, long rows, Ends ends) {
        // One connection for all the polling: a new backend per look would cost more than the look.
        try (Connection olap = bed.olap().connect();
             PreparedStatement written = olap.prepareStatement(
                     "SELECT EXISTS (SELECT 1 FROM " + target + " WHERE id = ? AND version = ?)");
             PreparedStatement commits = olap.prepareStatement("WITH w AS (SELECT pg_xact_commit_timestamp(xmin) AS c FROM "
                     + target + " WHERE version = ?) SELECT count(*), count(*) FILTER (WHERE c > (SELECT min(c) FROM w)), "
                     + "extract(epoch FROM max(c) - min(c)) FROM w")) {
            try (Statement plans = olap.createStatement()) {
                // The target was analyzed empty, so a generic plan scans it whole at every look until autovacuum
                // analyzes it again: 1.4 s of the database's CPU over our sink's 1M inserts, on the CPU the sink needs.
                plans.execute("SET plan_cache_mode = force_custom_plan");
            }
            written.setLong(1, ends.lastId());
            written.setInt(2, ends.finalVersion());
            commits.setInt(1, ends.finalVersion());
            BooleanSupplier done = () -> {
                try {
                    return queryBoolean(written);
                } catch (SQLException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            };
            QuietCompiler.await();
            HeapPeak.reset();
            CpuCost.Seconds cpu;
            try (CpuCost cost = CpuCost.backends(bed.olap())) {
                bed.runConnector(name, config, SourceBenchmark.timeout(rows), done);
                cpu = cost.stop();
            }
            HeapPeak.Peaks heap = HeapPeak.read();
            try (ResultSet rs = commits.executeQuery()) {
                rs.next();
                long arrived = rs.getLong(1);
                long afterFirst = rs.getLong(2);
                if (arrived != rows) {
                    return Measurement.failed("the last row arrived, but " + arrived + " rows of " + rows + " are there");
                }
                if (afterFirst == 0) {
                    return Measurement.failed("all rows arrived in one transaction: too few to time");
                }
                return Measurement.of(afterFirst, rs.getDouble(3), heap).withCpu(cpu, rows, true);
            }
        } catch (SQLException | RuntimeException e) {
            return Measurement.failed(e.getMessage());
        }
    }

    private static boolean queryBoolean(PreparedStatement query) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /**
     * The write ceiling: our sink's statement shape (one guarded upsert per batch of 10,000 rows or
     * 8 MiB of values, the rows as one JSON-array parameter, on a connection whose server process first
     * allocates and frees the sink's 32 MiB block) fed straight from the OLTP table. Only building the
     * parameters and running the statements is timed, not reading the source rows.
     */
    private Measurement direct(String table, long rows) {
        String target = directTarget(table);
        String upsert = "INSERT INTO " + target + " AS t (id, version, label, payload, updated_at) "
                + "SELECT id, version, label, payload::jsonb, updated_at FROM ROWS FROM (json_to_recordset(?::json) "
                + "AS (id bigint, version int, label text, updated_at timestamptz), unnest(?::text[])) "
                + "AS d(id, version, label, updated_at, payload) "
                + "ON CONFLICT (id) DO UPDATE SET version = excluded.version, label = excluded.label, "
                + "payload = excluded.payload, updated_at = excluded.updated_at WHERE t.updated_at < excluded.updated_at";
        QuietCompiler.await();
        try (Connection source = bed.oltp().connect(); Connection olap = bed.olap().connect();
             PreparedStatement write = olap.prepareStatement(upsert);
             CpuCost cost = CpuCost.backends(bed.olap())) {
            try (Statement keep = olap.createStatement()) {
                keep.execute(KEEP_STATEMENT_MEMORY);
            }
            source.setAutoCommit(false);
            long nanos = 0;
            long written = 0;
            try (Statement read = source.createStatement()) {
                read.setFetchSize(Contenders.SINK_BATCH);
                try (ResultSet rs = read.executeQuery("SELECT id, version, label, payload, updated_at FROM " + table)) {
                    List<SourceRow> fetched = new ArrayList<>(Contenders.SINK_BATCH);
                    boolean more = rs.next();
                    while (more) {
                        // Batches and fetches are the same size: each fetch is read before the timed part.
                        fetched.clear();
                        do {
                            fetched.add(new SourceRow(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                                    rs.getString(5)));
                        } while (fetched.size() < Contenders.SINK_BATCH && (more = rs.next()));
                        if (more) {
                            more = rs.next();
                        }
                        long start = System.nanoTime();
                        int from = 0;
                        while (from < fetched.size()) {
                            from = writeStatement(olap, write, fetched, from);
                        }
                        nanos += System.nanoTime() - start;
                        written += fetched.size();
                    }
                }
            }
            if (written != rows) {
                return Measurement.failed("read " + written + " rows of " + rows);
            }
            return Measurement.of(rows, nanos / 1e9, null).withCpu(cost.stop(), rows, false);
        } catch (SQLException | IOException e) {
            return Measurement.failed(e.getMessage());
        }
    }

    private record SourceRow(long id, int version, String label, String payload, String updatedAt) { }

    /**
     * One statement over the rows from {@code from}: as the sink bounds its statements, it stops
     * before the values pass 8 MiB. Documents travel beside the rows, as one text[].
     *
     * @return the index of the first row it did not write
     */
    private static int writeStatement(Connection olap, PreparedStatement write, List<SourceRow> rows, int from)
            throws SQLException, IOException {
        StringWriter text = new StringWriter();
        List<String> payloads = new ArrayList<>();
        int next = from;
        long chars = 0;
        try (JsonGenerator array = JSON.createGenerator(text)) {
            array.writeStartArray();
            do {
                SourceRow row = rows.get(next++);
                array.writeStartObject();
                array.writeNumberField("id", row.id());
                array.writeNumberField("version", row.version());
                array.writeStringField("label", row.label());
                array.writeStringField("updated_at", row.updatedAt());
                array.writeEndObject();
                payloads.add(row.payload());
                chars += ROW_CHARS + length(row.payload());
            } while (next < rows.size() && chars + ROW_CHARS + length(rows.get(next).payload()) <= STATEMENT_CHARS);
            array.writeEndArray();
        }
        write.setString(1, text.toString());
        write.setArray(2, olap.createArrayOf("text", payloads.toArray(new String[0])));
        write.executeUpdate();
        return next;
    }

    private static int length(String text) {
        return text == null ? 0 : text.length();
    }
}
