package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ForkedConnectCluster;
import io.pgcdc.testsupport.ForkedConnectWorker;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.TopicReader;
import io.pgcdc.testsupport.TopicReader.Message;

/**
 * Snapshots asked for by a signal while streaming (pg_logical_emit_message): chunk rows
 * interleave with live changes and never carry an older version of a row than one already
 * emitted; a worker lost mid-way resumes after the last stored chunk row.
 */
class IncrementalSnapshotIT {

    private static final String DB = "app";
    private static PostgresServer pg;
    private static ForkedConnectCluster cluster;
    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        assumeTrue(pg.majorVersion() >= 14, "signals are logical decoding messages, sent from PostgreSQL 14");
        pg.createDatabase(DB);
        cluster = new ForkedConnectCluster("incremental-cluster", Map.of());
        kafka = cluster.kafka();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private static void signal(String table) throws Exception {
        pg.execute(DB, "SELECT pg_logical_emit_message(true, 'pgcdc', "
                + "'{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"" + table + "\"]}}')");
    }

    private static boolean isSnapshotRow(Message m) {
        return m.value() != null && "r".equals(m.value().path("op").asText());
    }

    private static long snapshotRows(List<Message> messages) {
        return messages.stream().filter(IncrementalSnapshotIT::isSnapshotRow).count();
    }

    /**
     * The id where the snapshot rows' ascending order first breaks (a restarted task reading again from
     * its stored position), or {@code Integer.MAX_VALUE} when no row was read twice.
     */
    private static int firstRowReadAgain(List<Message> messages) {
        int previous = 0;
        for (Message m : messages) {
            if (isSnapshotRow(m)) {
                int id = m.value().path("after").path("id").asInt();
                if (id <= previous) {
                    return id;
                }
                previous = id;
            }
        }
        return Integer.MAX_VALUE;
    }

    /** Applies the topic's records in order, as a sink would: id → version. */
    private static Map<Integer, Integer> replay(List<Message> messages) {
        Map<Integer, Integer> rows = new TreeMap<>();
        for (Message m : messages) {
            if (m.value() == null) {
                continue;
            }
            if ("d".equals(m.value().path("op").asText())) {
                rows.remove(m.value().path("before").path("id").asInt());
            } else {
                JsonNode after = m.value().path("after");
                rows.put(after.path("id").asInt(), after.path("version").asInt());
            }
        }
        return rows;
    }

    private static Map<Integer, Integer> table(String name) throws Exception {
        Map<Integer, Integer> rows = new TreeMap<>();
        try (Connection c = pg.connect(DB); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, version FROM " + name)) {
            while (rs.next()) {
                rows.put(rs.getInt(1), rs.getInt(2));
            }
        }
        return rows;
    }

    /** Waits for the connector to stream from its slot, so that a change made now is captured. */
    private static void awaitStreaming(String slot) {
        Await.until(Duration.ofMinutes(2), "slot " + slot + " to be read", () -> "t".equals(
                pg.queryValue(DB, "SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")));
    }

    /** A source that takes no initial snapshot: the table's rows reach the topic only through a signalled one. */
    private static void startStreamingOnly(ForkedConnectWorker worker, String name, String table, int chunkSize) throws Exception {
        Map<String, String> config = sourceConfig(pg, DB, name, "public\\." + table);
        config.put("snapshot.mode", "never");
        config.put("incremental.snapshot.chunk.size", String.valueOf(chunkSize));
        worker.putConnector(name, config);
    }

    private static boolean incrementalSnapshotStored(ForkedConnectWorker worker, String name) throws Exception {
        return worker.get("/connectors/" + name + "/offsets").body().contains("incremental_tables");
    }

    private static boolean storedMidSnapshot(ForkedConnectWorker worker, String name) {
        try {
            return incrementalSnapshotStored(worker, name);
        } catch (Exception e) {
            throw new IllegalStateException("Reading the offsets of " + name + " failed: " + e, e);
        }
    }

    @Test
    @Tag("compat")
    void signalledSnapshotWhileRowsChangeNeverEmitsAnOlderVersionThanOneBefore() throws Exception {
        int rows = 20_000;
        pg.execute(DB, "CREATE TABLE versions (id int PRIMARY KEY, version int NOT NULL, note text)",
                "INSERT INTO versions SELECT g, 0, 'n' || g FROM generate_series(1, " + rows + ") g");
        ForkedConnectWorker worker = cluster.anyWorker();
        startStreamingOnly(worker, "inc", "versions", 200);
        try (TopicReader reader = new TopicReader(kafka, "inc\\.public\\.versions")) {
            awaitStreaming("inc");
            pg.execute(DB, "UPDATE versions SET version = 1 WHERE id = 1");
            reader.readUntil(Duration.ofMinutes(2), "streaming to start", m -> !m.isEmpty());

            // Two writers on disjoint rows (no deadlocks), many rows per transaction: every version is
            // newer than the last, so an older one reaching the topic after a newer one is visible.
            AtomicBoolean writing = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int parity = w;
                writers.add(pool.submit(() -> {
                    try (Connection c = pg.connect(DB); PreparedStatement update = c.prepareStatement(
                            "UPDATE versions SET version = version + 1 WHERE id = ANY(?)")) {
                        while (writing.get()) {
                            Integer[] ids = new Integer[10];
                            for (int i = 0; i < ids.length; i++) {
                                ids[i] = 2 * ThreadLocalRandom.current().nextInt(rows / 2) + 1 + parity;
                            }
                            java.util.Arrays.sort(ids);
                            update.setArray(1, c.createArrayOf("int4", ids));
                            update.execute();
                            Thread.sleep(20); // a steady load the stream keeps up with, not a backlog

                        }
                    }
                    return null;
                }));
            }
            signal("public.versions");
            Await.until(Duration.ofMinutes(1), "the signal to be taken up", () -> incrementalSnapshotStored(worker, "inc"));
            Await.until(Duration.ofMinutes(5), "the signalled snapshot to finish",
                    () -> !incrementalSnapshotStored(worker, "inc"));
            writing.set(false);
            for (Future<?> f : writers) {
                f.get();
            }
            pool.shutdown();

            Map<Integer, Integer> expected = table("versions");
            List<Message> messages = reader.readUntil(Duration.ofMinutes(2), "the topic to describe the table",
                    m -> replay(m).equals(expected));
            Map<Integer, Integer> newest = new HashMap<>();
            Map<Integer, Integer> reads = new HashMap<>();
            int regressions = 0;
            for (Message m : messages) {
                JsonNode after = m.value() == null ? null : m.value().path("after");
                if (after == null || after.isNull() || after.isMissingNode()) {
                    continue;
                }
                int id = after.path("id").asInt();
                int version = after.path("version").asInt();
                Integer before = newest.put(id, version);
                if (before != null && version < before) {
                    regressions++;
                }
                if (isSnapshotRow(m)) {
                    assertEquals("incremental", m.value().path("source").path("snapshot").asText());
                    reads.merge(id, 1, Integer::sum);
                }
            }
            assertEquals(0, regressions, "records carrying an older version of a row than one before them");
            assertTrue(reads.values().stream().allMatch(n -> n == 1), "each row read at most once");
            // Rows changed while their chunk waited for its watermark are not read: their change was emitted.
            assertTrue(reads.size() > rows / 2, "rows read by the snapshot: " + reads.size() + " of " + rows);
            long updates = messages.stream().filter(m -> m.value() != null && "u".equals(m.value().path("op").asText()))
                    .count();
            assertTrue(updates > 100, "updates streamed meanwhile: " + updates);
            System.out.printf("signalled snapshot: %d of %d rows read, %d updates streamed meanwhile%n", reads.size(), rows,
                    updates);
        }
    }

    @Test
    void aSnapshotOfWholeChunksIsStoredAsFinishedThoughNothingChangesAfterIt() throws Exception {
        int rows = 1_000;
        pg.execute(DB, "CREATE TABLE whole (id int PRIMARY KEY, version int NOT NULL)",
                "INSERT INTO whole SELECT g, 0 FROM generate_series(1, " + rows + ") g");
        ForkedConnectWorker worker = cluster.anyWorker();
        startStreamingOnly(worker, "whole", "whole", 500);
        try (TopicReader reader = new TopicReader(kafka, "whole\\.public\\.whole")) {
            awaitStreaming("whole");
            signal("public.whole");
            reader.readUntil(Duration.ofMinutes(2), "every row read", m -> snapshotRows(m) == rows);
            // Two whole chunks and no change after them: only a record can carry the finished state to
            // the offset store, so the second chunk's last row must (not a third, empty chunk).
            Await.until(Duration.ofMinutes(1), "the finished snapshot's offset",
                    () -> !incrementalSnapshotStored(worker, "whole"));
        }
        worker.deleteConnector("whole");
    }

    @Test
    void workerLostMidSignalledSnapshotResumesAfterTheLastStoredChunkRow() throws Exception {
        int rows = 40_000;
        pg.execute(DB, "CREATE TABLE ledger (id int PRIMARY KEY, version int NOT NULL)",
                "INSERT INTO ledger SELECT g, 0 FROM generate_series(1, " + rows + ") g");
        ForkedConnectWorker first = cluster.startWorker();
        int chunk = 500;
        startStreamingOnly(first, "resume", "ledger", chunk);
        try (TopicReader reader = new TopicReader(kafka, "resume\\.public\\.ledger")) {
            awaitStreaming("resume");
            pg.execute(DB, "UPDATE ledger SET version = 1 WHERE id = 1");
            reader.readUntil(Duration.ofMinutes(2), "streaming to start", m -> !m.isEmpty());
            signal("public.ledger");
            // Killed once Connect stored a position inside the snapshot: before that, starting over is right.
            List<Message> before = reader.readUntil(Duration.ofMinutes(3), "a quarter of the table read and stored",
                    m -> snapshotRows(m) >= rows / 4 && storedMidSnapshot(first, "resume"));
            first.kill();
            long atKill = snapshotRows(before);
            assertTrue(atKill < rows, "the snapshot finished before the kill; make the table larger");

            ForkedConnectWorker second = cluster.startWorker();
            pg.execute(DB, "UPDATE ledger SET version = 2 WHERE id = " + rows);
            Map<Integer, Integer> expected = table("ledger");
            List<Message> messages = reader.readUntil(Duration.ofMinutes(3), "every row read",
                    m -> m.stream().filter(IncrementalSnapshotIT::isSnapshotRow)
                            .map(r -> r.value().path("after").path("id").asInt()).distinct().count() == rows
                            && replay(m).equals(expected));
            int resumedAt = firstRowReadAgain(messages);
            assertTrue(resumedAt > chunk, "the restarted snapshot read row " + resumedAt + " again: it started over "
                    + "instead of resuming after the last stored chunk row");
            long again = snapshotRows(messages) - rows;
            assertTrue(again < atKill, again + " rows read twice of " + atKill + " in Kafka at the kill: "
                    + "the snapshot started over instead of resuming");
            Await.until(Duration.ofMinutes(1), "the finished snapshot's offset",
                    () -> !incrementalSnapshotStored(second, "resume"));
        }
    }
    /**
     * A signal's transaction emits no record: until a chunk row's offset carrying the request is stored, the slot must
     * stay before the signal, so that a worker lost meanwhile leaves a restart to read the signal again.
     */
    @Test
    void aSignalIsReadAgainWhenTheWorkerIsLostBeforeItsFirstChunkIsStored() throws Exception {
        int rows = 20;
        pg.execute(DB, "CREATE TABLE held (id int PRIMARY KEY, version int NOT NULL)",
                "INSERT INTO held SELECT g, 0 FROM generate_series(1, " + rows + ") g");
        // The chunk's rows wait in the worker, before Kafka, while this file exists.
        java.nio.file.Path hold = java.nio.file.Files.createTempFile("pgcdc-hold", "");
        Map<String, String> config = sourceConfig(pg, DB, "held", "public\\.held");
        config.put("snapshot.mode", "never");
        config.put("transforms", "hold");
        config.put("transforms.hold.type", HoldWhileFileExists.class.getName());
        config.put("transforms.hold.topic", "held.public.held");
        config.put("transforms.hold.file", hold.toString());
        cluster.anyWorker().putConnector("held", config);
        ForkedConnectWorker first = cluster.runningTaskOf("held");
        try (TopicReader reader = new TopicReader(kafka, "held\\.public\\.held")) {
            awaitStreaming("held");
            signal("public.held");
            String signalled = pg.queryValue(DB, "SELECT pg_current_wal_lsn()::text");
            Await.until(Duration.ofMinutes(1), "the chunk to be emitted", () -> java.nio.file.Files
                    .readString(first.log().toPath()).contains("Signalled snapshot of public.held done"));
            // Offsets are flushed every 200 ms: ten seconds give a slot confirmed past the signal time to show.
            Await.holds(Duration.ofSeconds(10), "the slot stays before the signal", () -> "t".equals(pg.queryValue(DB,
                    "SELECT confirmed_flush_lsn < '" + signalled + "' FROM pg_replication_slots WHERE slot_name = 'held'")));
            assertTrue(!incrementalSnapshotStored(first, "held"), "a chunk row was stored");
            first.kill();

            java.nio.file.Files.delete(hold);
            cluster.startWorker();
            reader.readUntil(Duration.ofMinutes(3), "the signalled table's rows", m -> snapshotRows(m) == rows);
        }
    }
}
