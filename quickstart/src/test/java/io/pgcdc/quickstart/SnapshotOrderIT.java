package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * A row a signalled snapshot reads while a transaction holds an uncommitted change to it ends as that change, even
 * when the change leaves updated_at alone: the change's WAL position is below the snapshot row's, though it
 * commits after, so a snapshot row carries no position and a change with one is newer than a row stored without.
 */
class SnapshotOrderIT {

    private static final String OLTP = "app";
    private static final String OLAP = "olap";
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.createDatabase(OLTP);
        pg.createDatabase(OLAP);
        connect = PluginWorker.start("snapshot-order", Map.of());
    }

    @AfterAll
    static void stop() {
        if (connect != null) {
            connect.stop();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aChangeInFlightWhileASnapshotReadsItsRowWinsATieWithThatRow() throws Exception {
        // updated_at never changes: every version of a row ties on it, and only positions order them.
        pg.execute(OLTP, "CREATE TABLE items (id bigint PRIMARY KEY, note text, "
                        + "updated_at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z')",
                "INSERT INTO items (id, note) SELECT g, 'snapshot' FROM generate_series(1, 5) g");
        pg.execute(OLAP, "CREATE TABLE items (id bigint PRIMARY KEY, note text, updated_at timestamptz, "
                + "pgcdc_position bigint)");
        String topic = "order.public.items";
        connect.configureConnector("order", PluginWorker.source("order", pg.host(), pg.port(), OLTP, "postgres",
                "public\\.items"));
        ConnectorStatus.awaitRunning(connect, "order", PluginWorker.TIMEOUT);
        connect.configureConnector("order-sink", PluginWorker.sink("order-sink", pg.jdbcUrl(OLAP), "postgres", topic));
        ConnectorStatus.awaitRunning(connect, "order-sink", PluginWorker.TIMEOUT);
        pg.execute(OLTP, "UPDATE items SET note = 'streamed'");
        awaitNotes("streamed|streamed|streamed|streamed|streamed");

        try (Connection inFlight = pg.connect(OLTP); Statement s = inFlight.createStatement()) {
            inFlight.setAutoCommit(false);
            s.executeUpdate("UPDATE items SET note = 'in flight' WHERE id = 3");
            pg.execute(OLTP, "SELECT pg_logical_emit_message(true, 'pgcdc', "
                    + "'{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.items\"]}}')");
            Await.until(PluginWorker.TIMEOUT, () -> "the signalled snapshot's row 3 in " + topic,
                    () -> snapshotRowOf3(topic));
            // Row 3 as the snapshot read it ('streamed') is written before this one's insert.
            pg.execute(OLTP, "INSERT INTO items (id, note) VALUES (6, 'after the snapshot')");
            awaitNotes("streamed|streamed|streamed|streamed|streamed|after the snapshot");
            inFlight.commit();
        }
        awaitNotes("streamed|streamed|in flight|streamed|streamed|after the snapshot");
        assertEquals("6", pg.queryValue(OLAP, "SELECT count(*) FROM items WHERE pgcdc_position IS NOT NULL"),
                "the snapshot's rows, without positions, tied with the streamed rows and left them as they were");
        connect.deleteConnector("order-sink");
        connect.deleteConnector("order");
    }

    private static boolean snapshotRowOf3(String topic) throws Exception {
        for (ConsumerRecord<byte[], byte[]> record : connect.kafka().consumeAll(Duration.ofSeconds(10).toMillis(), topic)) {
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
            return pg.queryValue(OLAP, "SELECT string_agg(note, '|' ORDER BY id) FROM items");
        } catch (Exception e) {
            return e.toString();
        }
    }
}
