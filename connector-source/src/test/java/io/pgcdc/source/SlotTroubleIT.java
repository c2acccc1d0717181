package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.TIMEOUT;
import static io.pgcdc.source.SourceIntegrationSupport.awaitRunning;
import static io.pgcdc.source.SourceIntegrationSupport.awaitTaskFailure;
import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectCluster;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.TopicReader;
import io.pgcdc.testsupport.TopicReader.Message;

/**
 * A slot invalidated because max_slot_wal_keep_size was exceeded, a slot dropped behind the
 * connector's back, and stored offsets ahead of the slot: each either fails the task with a message
 * naming the slot, what happened and the way out, or is handled without loss; and the way out
 * (snapshot.mode=when_needed, or a reset) makes the topic describe the table again.
 */
@Tag("compat")
class SlotTroubleIT {

    private static final String DB = "app";
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        if (pg.majorVersion() >= 13) {
            // WAL segments are 16 MB: any slot more than one segment behind is invalidated at the next checkpoint.
            pg.execute("postgres", "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()");
        }
        pg.createDatabase(DB);
        pg.execute(DB, "CREATE TABLE filler (v text)");
        connect = ConnectCluster.start("slot-trouble", 1, Map.of());
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

    /** A captured table of {@code rows} rows (id, note). */
    private static void createTable(String table, int rows) throws SQLException {
        pg.execute(DB, "CREATE TABLE " + table + " (id int PRIMARY KEY, note text)",
                "INSERT INTO " + table + " SELECT g, 'old' FROM generate_series(1, " + rows + ") g");
    }

    private static Map<Integer, String> table(String name) throws SQLException {
        Map<Integer, String> rows = new TreeMap<>();
        try (Connection c = pg.connect(DB); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, note FROM " + name)) {
            while (rs.next()) {
                rows.put(rs.getInt(1), rs.getString(2));
            }
        }
        return rows;
    }

    /** Applies the topic's change events in order, as a sink would: the table they describe. */
    private static Map<Integer, String> replay(List<Message> messages) {
        Map<Integer, String> rows = new TreeMap<>();
        for (Message m : messages) {
            if (m.value() == null) {
                continue;
            }
            if ("d".equals(m.value().path("op").asText())) {
                rows.remove(m.value().path("before").path("id").asInt());
            } else {
                JsonNode after = m.value().path("after");
                rows.put(after.path("id").asInt(), after.path("note").asText());
            }
        }
        return rows;
    }

    private static long count(List<Message> messages, String op) {
        return messages.stream().filter(m -> m.value() != null && op.equals(m.value().path("op").asText())).count();
    }

    private static void awaitTopicDescribes(TopicReader reader, String table) throws SQLException {
        Map<Integer, String> expected = table(table);
        reader.readUntil(TIMEOUT, "the topic to describe " + table + " " + expected, m -> replay(m).equals(expected));
    }

    private static String slotColumn(String slot, String column) throws SQLException {
        return pg.queryValue("postgres", "SELECT " + column + " FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    private static void awaitSlotReleased(String slot) {
        Await.until(TIMEOUT, "slot " + slot + " released", () -> "f".equals(slotColumn(slot, "active")));
    }

    /** Writes WAL the slot holds back (into a table nobody captures), switching segments and checkpointing, until the server gives the slot up. */
    private static void writeWalUntilLost(String slot) {
        Await.until(TIMEOUT, () -> "slot " + slot + " to be invalidated", () -> {
            pg.execute(DB, "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)",
                    "SELECT pg_switch_wal()", "CHECKPOINT");
            return "lost".equals(slotColumn(slot, "wal_status"));
        });
    }

    /** Terminates the slot's reader and drops the slot before the reader is back (it reconnects within 200 ms). */
    private static void dropBehindTheConnectorsBack(String slot) {
        Await.until(TIMEOUT, "slot " + slot + " dropped", () -> {
            pg.execute("postgres", "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                    + "WHERE slot_name = '" + slot + "' AND active_pid IS NOT NULL");
            try {
                pg.execute(DB, "SELECT pg_drop_replication_slot('" + slot + "')");
                return true;
            } catch (SQLException stillActive) {
                return false;
            }
        });
    }

    private static void awaitSnapshots(TopicReader reader, int rowsRead) {
        reader.readUntil(TIMEOUT, rowsRead + " rows read by snapshots", m -> count(m, "r") >= rowsRead);
    }

    private static void useWhenNeeded(String name, Map<String, String> config) {
        config.put("snapshot.mode", "when_needed");
        connect.configureConnector(name, config); // a new config restarts the task
    }

    @Test
    void aSlotInvalidatedWhileTheConnectorWasStoppedFailsTheTaskUntilWhenNeededTakesANewSnapshot() throws Exception {
        assumeTrue(pg.majorVersion() >= 13, "slots are invalidated from PostgreSQL 13 (max_slot_wal_keep_size)");
        String name = "stopped";
        createTable("stopped_t", 50);
        Map<String, String> config = sourceConfig(pg, DB, name, "public\\.stopped_t");
        try (TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\.stopped_t")) {
            connect.configureConnector(name, config);
            awaitSnapshots(reader, 50);
            connect.stopConnector(name);
            awaitSlotReleased(name);
            pg.execute(DB, "UPDATE stopped_t SET note = 'changed while stopped' WHERE id <= 5");
            writeWalUntilLost(name);

            connect.resumeConnector(name);
            String trace = awaitTaskFailure(connect, name);
            assertTrue(trace.contains("Replication slot \"" + name + "\"") && trace.contains("was invalidated")
                    && trace.contains("max_slot_wal_keep_size") && trace.contains("snapshot.mode=when_needed"), trace);
            assertEquals("lost", slotColumn(name, "wal_status"), "the failed task left the slot alone");

            useWhenNeeded(name, config);
            awaitRunning(connect, name);
            awaitSnapshots(reader, 100);
            pg.execute(DB, "UPDATE stopped_t SET note = 'streamed again' WHERE id = 50");
            awaitTopicDescribes(reader, "stopped_t");
        }
        connect.deleteConnector(name);
    }

    @Test
    void aSlotInvalidatedUnderAPausedTaskFailsItWhenResumedAndWhenNeededRecovers() throws Exception {
        assumeTrue(pg.majorVersion() >= 13, "slots are invalidated from PostgreSQL 13 (max_slot_wal_keep_size)");
        String name = "paused";
        createTable("paused_t", 20);
        Map<String, String> config = sourceConfig(pg, DB, name, "public\\.paused_t");
        try (TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\.paused_t")) {
            connect.configureConnector(name, config);
            awaitSnapshots(reader, 20);
            connect.pauseConnector(name);
            Await.until(TIMEOUT, "the connector paused",
                    () -> "PAUSED".equals(connect.connectorStatus(name).tasks().get(0).state()));
            // A paused task reads on but hands nothing to Connect: this change stays unacknowledged, so the
            // slot cannot be confirmed past it and holds the WAL written after it.
            pg.execute(DB, "UPDATE paused_t SET note = 'while paused' WHERE id = 1");
            writeWalUntilLost(name);

            connect.resumeConnector(name);
            String trace = awaitTaskFailure(connect, name);
            assertTrue(trace.contains("Replication slot \"" + name + "\"") && trace.contains("was invalidated while the "
                    + "connector was reading it") && trace.contains("snapshot.mode=when_needed"), trace);

            useWhenNeeded(name, config);
            awaitRunning(connect, name);
            awaitSnapshots(reader, 40);
            awaitTopicDescribes(reader, "paused_t");
        }
        connect.deleteConnector(name);
    }

    @Test
    void aSlotDroppedWhileStreamingFailsTheTaskNamingTheWayOut() throws Exception {
        String name = "dropped";
        createTable("dropped_t", 20);
        Map<String, String> config = sourceConfig(pg, DB, name, "public\\.dropped_t");
        try (TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\.dropped_t")) {
            connect.configureConnector(name, config);
            awaitSnapshots(reader, 20);
            pg.execute(DB, "UPDATE dropped_t SET note = 'streamed' WHERE id = 1");
            awaitTopicDescribes(reader, "dropped_t");

            dropBehindTheConnectorsBack(name);
            pg.execute(DB, "UPDATE dropped_t SET note = 'lost to the stream' WHERE id = 2");
            String trace = awaitTaskFailure(connect, name);
            assertTrue(trace.contains("Replication slot \"" + name + "\"") && trace.contains("was dropped")
                    && trace.contains("snapshot.mode=when_needed") && trace.contains("/offsets"), trace);

            useWhenNeeded(name, config);
            awaitRunning(connect, name);
            awaitSnapshots(reader, 40);
            awaitTopicDescribes(reader, "dropped_t");
        }
        connect.deleteConnector(name);
    }

    /**
     * Connect stores offsets before the slot is confirmed; a task stopped in between restarts with
     * the offset ahead of the slot. Here the slot is put back to an older copy of itself: the
     * changes between the copy and the offset were delivered, and are not delivered again.
     */
    @Test
    void anOffsetAheadOfTheSlotSkipsWhatWasDeliveredAndNothingElse() throws Exception {
        String name = "ahead";
        createTable("ahead_t", 10);
        try (TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\.ahead_t")) {
            connect.configureConnector(name, sourceConfig(pg, DB, name, "public\\.ahead_t"));
            awaitSnapshots(reader, 10);
            pg.execute(DB, "SELECT pg_copy_logical_replication_slot('ahead', 'ahead_copy')");
            long copied = SourceIntegrationSupport.confirmedFlush(pg, "ahead_copy");
            pg.execute(DB, "UPDATE ahead_t SET note = 'delivered' WHERE id BETWEEN 2 AND 5");
            long updated = Long.parseLong(pg.queryValue(DB, "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));
            reader.readUntil(TIMEOUT, "the four updates", m -> count(m, "u") == 4);
            // The slot is confirmed only to what Connect stored: past the updates, their offsets are stored.
            Await.until(TIMEOUT, "the slot confirmed past the updates",
                    () -> SourceIntegrationSupport.confirmedFlush(pg, name) >= updated);

            connect.stopConnector(name);
            awaitSlotReleased(name);
            pg.execute(DB, "SELECT pg_drop_replication_slot('ahead')",
                    "SELECT pg_copy_logical_replication_slot('ahead_copy', 'ahead')",
                    "SELECT pg_drop_replication_slot('ahead_copy')");
            assertEquals(copied, SourceIntegrationSupport.confirmedFlush(pg, name), "the slot is behind the offset");
            connect.resumeConnector(name);
            awaitRunning(connect, name);
            pg.execute(DB, "UPDATE ahead_t SET note = 'after the restart' WHERE id BETWEEN 6 AND 7");
            awaitTopicDescribes(reader, "ahead_t");
            List<Message> messages = reader.poll(java.time.Duration.ofMillis(500));
            assertEquals(6, count(messages, "u"), "each update once: the four before the stop were not sent again");
        }
        connect.deleteConnector(name);
    }

    /** An offset beyond the end of the server's WAL was not stored against this server: starting there would skip changes. */
    @Test
    void anOffsetBeyondTheEndOfTheWalFailsTheTaskUntilTheOffsetsAreReset() throws Exception {
        String name = "beyond";
        createTable("beyond_t", 10);
        try (TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\.beyond_t")) {
            connect.configureConnector(name, sourceConfig(pg, DB, name, "public\\.beyond_t"));
            awaitSnapshots(reader, 10);
            connect.stopConnector(name);
            awaitSlotReleased(name);
            long walEnd = Long.parseLong(pg.queryValue(DB, "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));
            long future = walEnd + (1L << 40);
            connect.alterSourceConnectorOffset(name, SourceOffset.partition(DB, name),
                    new SourceOffset(new ChangePosition(future, 0, 0), true, future).toMap());
            pg.execute(DB, "UPDATE beyond_t SET note = 'would be skipped' WHERE id = 1");

            connect.resumeConnector(name);
            String trace = awaitTaskFailure(connect, name);
            assertTrue(trace.contains("stored offset for replication slot \"" + name + "\"")
                    && trace.contains("beyond the end of the WAL") && trace.contains("DELETE /connectors/<name>/offsets"),
                    trace);

            // The way out the message names: stop, reset the offsets, drop the slot, resume: a new snapshot.
            connect.stopConnector(name);
            awaitSlotReleased(name);
            connect.resetConnectorOffsets(name);
            pg.execute(DB, "SELECT pg_drop_replication_slot('beyond')");
            connect.resumeConnector(name);
            awaitRunning(connect, name);
            awaitSnapshots(reader, 20);
            awaitTopicDescribes(reader, "beyond_t");
        }
        connect.deleteConnector(name);
    }
}
