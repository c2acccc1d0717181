package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.ServerAndWorker;

/**
 * A row a signalled snapshot reads while a transaction holds an uncommitted change to it ends as that change, even
 * when the change leaves updated_at alone: the change's WAL position is below the snapshot row's, though it
 * commits after, so a snapshot row carries no position and a change with one is newer than a row stored without.
 */
class SnapshotOrderIT {

    private static final String OLTP = "app";
    private static final String OLAP = "olap";
    @RegisterExtension
    static final ServerAndWorker BED = new ServerAndWorker(() -> PluginWorker.start("snapshot-order", Map.of()),
            OLTP, OLAP);

    @Test
    void aChangeInFlightWhileASnapshotReadsItsRowWinsATieWithThatRow() throws Exception {
        // updated_at never changes: every version of a row ties on it, and only positions order them.
        BED.pg().execute(OLTP, "CREATE TABLE items (id bigint PRIMARY KEY, note text, "
                        + "updated_at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z')",
                "INSERT INTO items (id, note) SELECT g, 'snapshot' FROM generate_series(1, 5) g");
        BED.pg().execute(OLAP, "CREATE TABLE items (id bigint PRIMARY KEY, note text, updated_at timestamptz, "
                + "pgcdc_position bigint)");
        String topic = "order.public.items";
        BED.connect().configureConnector("order", PluginWorker.source("order", BED.pg().host(), BED.pg().port(), OLTP, "postgres",
                "public\\.items"));
        ConnectorStatus.awaitRunning(BED.connect(), "order", PluginWorker.TIMEOUT);
        BED.connect().configureConnector("order-sink", PluginWorker.sink("order-sink", BED.pg().jdbcUrl(OLAP), "postgres", topic));
        ConnectorStatus.awaitRunning(BED.connect(), "order-sink", PluginWorker.TIMEOUT);
        BED.pg().execute(OLTP, "UPDATE items SET note = 'streamed'");
        awaitNotes("streamed|streamed|streamed|streamed|streamed");

        try (Connection inFlight = BED.pg().connect(OLTP); Statement s = inFlight.createStatement()) {
            inFlight.setAutoCommit(false);
            s.executeUpdate("UPDATE items SET note = 'in flight' WHERE id = 3");
            BED.pg().execute(OLTP, "SELECT pg_logical_emit_message(true, 'pgcdc', "
                    + "'{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.items\"]}}')");
            Await.until(PluginWorker.TIMEOUT, () -> "the signalled snapshot's row 3 in " + topic,
                    () -> snapshotRowOf3(topic));
            // Row 3 as the snapshot read it ('streamed') is written before this one's insert.
            BED.pg().execute(OLTP, "INSERT INTO items (id, note) VALUES (6, 'after the snapshot')");
            awaitNotes("streamed|streamed|streamed|streamed|streamed|after the snapshot");
            inFlight.commit();
        }
        awaitNotes("streamed|streamed|in flight|streamed|streamed|after the snapshot");
        assertEquals("6", BED.pg().queryValue(OLAP, "SELECT count(*) FROM items WHERE pgcdc_position IS NOT NULL"),
                "the snapshot's rows, without positions, tied with the streamed rows and left them as they were");
        BED.connect().deleteConnector("order-sink");
        BED.connect().deleteConnector("order");
    }

    private static boolean snapshotRowOf3(String topic) throws Exception {
        for (ConsumerRecord<byte[], byte[]> record : BED.connect().kafka().consumeAll(Duration.ofSeconds(10).toMillis(), topic)) {
            String value = record.value() == null ? "" : new String(record.value(), StandardCharsets.UTF_8);
            if (value.contains("\"snapshot\":\"incremental\"") && value.contains("\"after\":{\"id\":3,")) {
                return true;
            }
        }
        return false;
    }

    private static void awaitNotes(String expected) {
        Await.until(PluginWorker.TIMEOUT, () -> "OLAP notes " + expected + ", not " + notes(),
                () -> expected.equals(notes()));
    }

    private static String notes() {
        try {
            return BED.pg().queryValue(OLAP, "SELECT string_agg(note, '|' ORDER BY id) FROM items");
        } catch (Exception e) {
            return e.toString();
        }
    }
}
