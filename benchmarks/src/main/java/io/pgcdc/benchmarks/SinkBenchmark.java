package io.pgcdc.benchmarks;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.function.BooleanSupplier;

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

    static String debeziumTarget(String table) {
        return "dbz_" + table;
    }

    static String directTarget(String table) {
        return "direct_" + table;
    }

    Result run(String table, long rows, int finalVersion) {
        String topic = SourceBenchmark.pgcdcTopic(table);
        Measurement pgcdc = connector("pgcdc-sink-" + table, Contenders.pgcdcSink(bed.olap(), topic, pgcdcTarget(table), true),
                pgcdcTarget(table), rows, finalVersion);
        Measurement pgcdcStructs = connector("pgcdc-structs-sink-" + table,
                Contenders.pgcdcSink(bed.olap(), topic, pgcdcStructsTarget(table), false), pgcdcStructsTarget(table), rows,
                finalVersion);
        Measurement debezium = connector("debezium-sink-" + table,
                Contenders.debeziumSink(bed.olap(), topic, debeziumTarget(table)), debeziumTarget(table), rows, finalVersion);
        return new Result(pgcdc, pgcdcStructs, debezium, direct(table, rows));
    }

    /**
     * Rows/s after the first statement's rows are visible until the last row is: start-up is not
     * counted, and neither are the rows of that first statement, whose start nobody sees.
     */
    private Measurement connector(String name, Map<String, String> config, String target, long rows, int finalVersion) {
        // One connection for all the polling: a new backend per look would cost more than the look.
        try (Connection olap = bed.olap().connect();
             PreparedStatement arrived = olap.prepareStatement("SELECT count(*) FROM " + target + " WHERE version = ?");
             PreparedStatement anyArrived = olap.prepareStatement(
                     "SELECT EXISTS (SELECT 1 FROM " + target + " WHERE version = ?)")) {
            arrived.setInt(1, finalVersion);
            anyArrived.setInt(1, finalVersion);
            long[] firstSeen = {0};
            long[] firstRows = {0};
            long[] lastCount = {0};
            BooleanSupplier done = () -> {
                try {
                    long now = System.nanoTime();
                    if (firstSeen[0] == 0) {
                        if (queryBoolean(anyArrived)) {
                            firstSeen[0] = now;
                            firstRows[0] = queryLong(arrived);
                        }
                        return firstRows[0] >= rows;
                    }
                    // Counting a million rows is work of its own: not more than four times a second.
                    if (now - lastCount[0] < 250_000_000L) {
                        return false;
                    }
                    lastCount[0] = now;
                    return queryLong(arrived) >= rows;
                } catch (SQLException e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            };
            HeapPeak.reset();
            bed.runConnector(name, config, SourceBenchmark.timeout(rows), done);
            HeapPeak.Peaks heap = HeapPeak.read();
            if (firstRows[0] >= rows) {
                return Measurement.failed("all rows arrived in one statement: too few to time");
            }
            return Measurement.of(rows - firstRows[0], (lastCount[0] - firstSeen[0]) / 1e9, heap);
        } catch (SQLException | RuntimeException e) {
            return Measurement.failed(e.getMessage());
        }
    }

    private static boolean queryBoolean(PreparedStatement query) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private static long queryLong(PreparedStatement query) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * The write ceiling: our sink's statement shape (one guarded upsert per batch, the batch as one
     * JSON-array parameter) fed straight from the OLTP table. Only building the arrays and running the
     * statements is timed, not reading the source rows.
     */
    private Measurement direct(String table, long rows) {
        String target = directTarget(table);
        String upsert = "INSERT INTO " + target + " AS t (id, version, label, payload, updated_at) "
                + "SELECT id, version, label, payload, updated_at FROM jsonb_to_recordset(?::jsonb) "
                + "AS d(id bigint, version int, label text, payload jsonb, updated_at timestamptz) "
                + "ON CONFLICT (id) DO UPDATE SET version = excluded.version, label = excluded.label, "
                + "payload = excluded.payload, updated_at = excluded.updated_at WHERE t.updated_at < excluded.updated_at";
        try (Connection source = bed.oltp().connect(); Connection olap = bed.olap().connect();
             PreparedStatement write = olap.prepareStatement(upsert)) {
            source.setAutoCommit(false);
            long nanos = 0;
            long written = 0;
            try (Statement read = source.createStatement()) {
                read.setFetchSize(Contenders.SINK_BATCH);
                try (ResultSet rs = read.executeQuery("SELECT id, version, label, payload, updated_at FROM " + table)) {
                    boolean more = rs.next();
                    while (more) {
                        // Batches and fetches are the same size: inside the timed part the cursor
                        // hands out rows it holds, and the next fetch happens outside it.
                        long start = System.nanoTime();
                        StringWriter text = new StringWriter();
                        int batch = 0;
                        try (JsonGenerator array = JSON.createGenerator(text)) {
                            array.writeStartArray();
                            do {
                                writeRow(array, rs);
                                batch++;
                            } while (batch < Contenders.SINK_BATCH && (more = rs.next()));
                            array.writeEndArray();
                        }
                        write.setString(1, text.toString());
                        write.executeUpdate();
                        nanos += System.nanoTime() - start;
                        written += batch;
                        if (batch == Contenders.SINK_BATCH) {
                            more = rs.next();
                        }
                    }
                }
            }
            if (written != rows) {
                return Measurement.failed("read " + written + " rows of " + rows);
            }
            return Measurement.of(rows, nanos / 1e9, null);
        } catch (SQLException | IOException e) {
            return Measurement.failed(e.getMessage());
        }
    }

    private static void writeRow(JsonGenerator out, ResultSet rs) throws SQLException, IOException {
        out.writeStartObject();
        out.writeNumberField("id", rs.getLong(1));
        out.writeNumberField("version", rs.getInt(2));
        out.writeStringField("label", rs.getString(3));
        String payload = rs.getString(4);
        out.writeFieldName("payload");
        if (payload == null) {
            out.writeNull();
        } else {
            out.writeRawValue(payload);
        }
        out.writeStringField("updated_at", rs.getString(5));
        out.writeEndObject();
    }
}
