package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.common.TopicPartition;
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
 * Initial snapshots: rows that existed before the slot arrive as op 'r', consistent with the
 * stream that follows, while writers keep committing; and a worker killed mid-snapshot resumes
 * after the last row Connect stored, not from the first row.
 */
class SnapshotIT {

    private static final String DB = "app";
    private static PostgresServer pg;
    private static ForkedConnectCluster cluster;
    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.createDatabase(DB);
        cluster = new ForkedConnectCluster("snapshot-cluster", Map.of());
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

    private static void awaitTaskRunning(ForkedConnectWorker worker, String name) {
        Await.until(Duration.ofMinutes(2), "the task of " + name + " to run", () -> {
            JsonNode status = worker.status(name);
            return status.path("tasks").path(0).path("state").asText().equals("RUNNING");
        });
    }

    /** Applies the topic's records in order, as a sink would: the table they describe. */
    private static Map<Integer, String> replay(List<Message> messages) {
        Map<Integer, String> rows = new TreeMap<>();
        for (Message m : messages) {
            if (m.value() == null) {
                continue;
            }
            String op = m.value().path("op").asText();
            if (op.equals("d")) {
                rows.remove(m.value().path("before").path("id").asInt());
            } else {
                JsonNode after = m.value().path("after");
                rows.put(after.path("id").asInt(), after.path("balance").asText() + "|" + after.path("note").asText());
            }
        }
        return rows;
    }

    private static Map<Integer, String> table(String name) throws Exception {
        Map<Integer, String> rows = new TreeMap<>();
        try (Connection c = pg.connect(DB); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, balance, note FROM " + name)) {
            while (rs.next()) {
                rows.put(rs.getInt(1), rs.getInt(2) + "|" + rs.getString(3));
            }
        }
        return rows;
    }

    private static long snapshotRows(List<Message> messages) {
        return messages.stream().filter(m -> m.value() != null && "r".equals(m.value().path("op").asText())).count();
    }

    /** Records after the snapshot's last row. */
    private static long streamedAfterSnapshot(List<Message> messages) {
        long after = 0;
        boolean finished = false;
        for (Message m : messages) {
            if (m.value() == null) {
                continue;
            }
            if (finished) {
                after++;
            } else {
                finished = "last".equals(m.value().path("source").path("snapshot").asText());
            }
        }
        return after;
    }

    private static boolean snapshotFinished(List<Message> messages) {
        return messages.stream().anyMatch(m -> m.value() != null
                && "last".equals(m.value().path("source").path("snapshot").asText()));
    }

    @Test
    @Tag("compat")
    void snapshotThenStreamEqualsTheTableWhileWritersCommit() throws Exception {
        int rows = 20_000;
        pg.execute(DB, "CREATE TABLE accounts (id int PRIMARY KEY, balance int, note text, "
                        + "updated_at timestamptz DEFAULT clock_timestamp())",
                "INSERT INTO accounts (id, balance, note) SELECT g, g % 1000, 'n' || g FROM generate_series(1, " + rows + ") g");
        ForkedConnectWorker worker = cluster.anyWorker();
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            writers.add(pool.submit(() -> {
                try (Connection c = pg.connect(DB); Statement s = c.createStatement()) {
                    int next = rows + 1 + writer * 1_000_000;
                    while (writing.get()) {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        int id = 1 + random.nextInt(rows);
                        switch (random.nextInt(3)) {
                            case 0 -> s.execute("UPDATE accounts SET balance = balance + 1, note = 'u' WHERE id = " + id);
                            case 1 -> s.execute("DELETE FROM accounts WHERE id = " + id);
                            default -> s.execute("INSERT INTO accounts (id, balance, note) VALUES (" + next++ + ", 7, 'i')");
                        }
                    }
                }
                return null;
            }));
        }
        Map<String, String> config = sourceConfig(pg, DB, "snap", "public\\.accounts");
        config.put("snapshot.fetch.size", "500");
        worker.putConnector("snap", config);
        try (TopicReader reader = new TopicReader(kafka, "snap\\.public\\.accounts")) {
            reader.readUntil(Duration.ofMinutes(3), "the snapshot's last row", SnapshotIT::snapshotFinished);
            // Writers go on after the snapshot: some of their changes must stream before they stop.
            reader.readUntil(Duration.ofMinutes(2), "changes streamed after the snapshot", m -> streamedAfterSnapshot(m) >= 100);
            writing.set(false);
            for (Future<?> f : writers) {
                f.get();
            }
            pool.shutdown();
            Map<Integer, String> expected = table("accounts");
            List<Message> messages = reader.readUntil(Duration.ofMinutes(2), "the topic to describe the table",
                    m -> replay(m).equals(expected));
            long snapshotRows = messages.stream().filter(m -> m.value() != null && "r".equals(m.value().path("op").asText()))
                    .count();
            long distinct = messages.stream().filter(m -> m.value() != null && "r".equals(m.value().path("op").asText()))
                    .map(m -> m.value().path("after").path("id").asInt()).distinct().count();
            assertEquals(distinct, snapshotRows, "each row read once by the snapshot");
            assertTrue(snapshotRows > 0 && snapshotRows <= rows + 100_000, "snapshot rows: " + snapshotRows);
            assertTrue(messages.stream().anyMatch(m -> m.value() != null && "u".equals(m.value().path("op").asText())),
                    "changes streamed after the snapshot");
        }
    }

    @Test
    void workerKilledMidSnapshotResumesAfterTheLastStoredRow() throws Exception {
        int rows = 60_000;
        pg.execute(DB, "CREATE TABLE ledger (id int PRIMARY KEY, balance int, note text)",
                "INSERT INTO ledger SELECT g, g, 'row ' || g FROM generate_series(1, " + rows + ") g");
        kafka.createTopic("resume.public.ledger", 1);
        ForkedConnectWorker first = cluster.startWorker();
        Map<String, String> config = sourceConfig(pg, DB, "resume", "public\\.ledger");
        config.put("snapshot.fetch.size", "1000");
        first.putConnector("resume", config);
        TopicPartition partition = new TopicPartition("resume.public.ledger", 0);
        Await.until(Duration.ofMinutes(3), "a third of the snapshot in Kafka", () -> kafka.endOffset(partition) >= rows / 3);
        long atKill = kafka.endOffset(partition);
        first.kill();
        assertTrue(atKill < rows, "the snapshot finished before the kill; make the table larger");

        ForkedConnectWorker second = cluster.startWorker();
        awaitTaskRunning(second, "resume");
        pg.execute(DB, "UPDATE ledger SET note = 'after' WHERE id = 1");
        Map<Integer, String> expected = table("ledger");
        try (TopicReader reader = new TopicReader(kafka, "resume\\.public\\.ledger")) {
            List<Message> messages = reader.readUntil(Duration.ofMinutes(3), "the topic to describe the table",
                    m -> replay(m).equals(expected));
            Map<Integer, Integer> reads = new HashMap<>();
            messages.stream().filter(m -> "r".equals(m.value().path("op").asText()))
                    .forEach(m -> reads.merge(m.value().path("after").path("id").asInt(), 1, Integer::sum));
            assertEquals(rows, reads.size(), "every row read");
            long again = reads.values().stream().filter(n -> n > 1).count();
            assertTrue(again < atKill / 2, again + " rows read twice of " + atKill + " in Kafka at the kill: "
                    + "the snapshot started over instead of resuming");
        }
    }

    @Test
    void severalTablesReadAtOnceResumeEachWhereItGotAfterTheWorkerIsKilled() throws Exception {
        int perTable = 15_000;
        List<String> tables = List.of("part_a", "part_b", "part_c", "part_d");
        for (String table : tables) {
            pg.execute(DB, "CREATE TABLE " + table + " (id int PRIMARY KEY, balance int, note text)",
                    "INSERT INTO " + table + " SELECT g, g, '" + table + "' FROM generate_series(1, " + perTable + ") g");
            kafka.createTopic("parallel.public." + table, 1);
        }
        ForkedConnectWorker first = cluster.startWorker();
        Map<String, String> config = sourceConfig(pg, DB, "parallel", "public\\.part_.*");
        config.put("snapshot.max.threads", "3");
        config.put("snapshot.fetch.size", "500");
        first.putConnector("parallel", config);
        int total = perTable * tables.size();
        try (TopicReader reader = new TopicReader(kafka, "parallel\\.public\\.part_.*")) {
            List<Message> before = reader.readUntil(Duration.ofMinutes(3), "a third of the rows, from three tables at once",
                    m -> snapshotRows(m) >= total / 3);
            first.kill();
            long atKill = snapshotRows(before);
            long tablesStarted = before.stream().map(Message::topic).distinct().count();
            assertTrue(tablesStarted >= 3, "tables read at once: " + tablesStarted);
            assertTrue(atKill < total, "the snapshot finished before the kill; make the tables larger");

            ForkedConnectWorker second = cluster.startWorker();
            awaitTaskRunning(second, "parallel");
            // What the kill left is read in chunks while streaming: no row carries the initial snapshot's "last".
            List<Message> messages = reader.readUntil(Duration.ofMinutes(3), "every row of every table",
                    m -> tables.stream().allMatch(t -> distinctRead(m, t) == perTable));
            long again = snapshotRows(messages) - total;
            assertTrue(again < atKill / 2, again + " rows read twice of " + atKill + " in Kafka at the kill: "
                    + "tables started over instead of resuming");
            for (String table : tables) {
                List<Message> ofTable = messages.stream().filter(m -> m.topic().endsWith("." + table)).toList();
                assertEquals(table(table), replay(ofTable), table);
            }
        }
    }

    /**
     * Writers adding one to random rows' versions while {@code body} runs: what a consumer sees of a row may repeat
     * after a restart, but must never go back to an older version.
     */
    private void whileVersionsClimb(String table, int rows, ThrowingRunnable body) throws Exception {
        pg.execute(DB, "CREATE TABLE " + table + " (id int PRIMARY KEY, version int NOT NULL, pad text)",
                "INSERT INTO " + table + " SELECT g, 0, repeat('p', 100) FROM generate_series(1, " + rows + ") g");
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            writers.add(pool.submit(() -> {
                try (Connection c = pg.connect(DB); Statement s = c.createStatement()) {
                    while (writing.get()) {
                        s.execute("UPDATE " + table + " SET version = version + 1 WHERE id = "
                                + (1 + ThreadLocalRandom.current().nextInt(rows)));
                        Thread.sleep(5); // a steady load the stream keeps up with, not a flood
                    }
                }
                return null;
            }));
        }
        try {
            body.run();
        } finally {
            writing.set(false);
            for (Future<?> f : writers) {
                f.get();
            }
            pool.shutdown();
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * Records that show a key older than a record before them did, each as "id: newer then older": not counting a
     * record sent again (same position, same version), which at-least-once allows after a restart.
     */
    private static List<String> wentBack(List<Message> messages) {
        Map<Integer, Integer> newest = new HashMap<>();
        Set<String> sent = new HashSet<>();
        List<String> back = new ArrayList<>();
        for (Message m : messages) {
            JsonNode after = m.value() == null ? null : m.value().path("after");
            if (after == null || !after.isObject()) {
                continue;
            }
            int id = after.path("id").asInt();
            int version = after.path("version").asInt();
            JsonNode source = m.value().path("source");
            if (!sent.add(id + "@" + source.path("lsn_commit") + "/" + source.path("change_index") + "=" + version)) {
                continue;
            }
            Integer before = newest.get(id);
            if (before != null && version < before) {
                back.add(id + ": " + before + " then " + version + " (" + m.value().path("op").asText() + ", snapshot "
                        + source.path("snapshot").asText() + ")");
            } else {
                newest.put(id, version);
            }
        }
        return back;
    }

    private static String storedOffset(ForkedConnectWorker worker, String connector) {
        try {
            return worker.get("/connectors/" + connector + "/offsets").body();
        } catch (java.io.IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /**
     * Keys with a row in the messages. Read in chunks while streaming, a row changed meanwhile is not sent as read
     * (op 'r'): its change, newer, was sent instead.
     */
    private static long keysSent(List<Message> messages) {
        return messages.stream().map(m -> m.value() == null ? null : m.value().path("after"))
                .filter(after -> after != null && after.isObject()).map(after -> after.path("id").asInt()).distinct().count();
    }

    private static Map<Integer, Integer> versions(String table) throws Exception {
        Map<Integer, Integer> rows = new TreeMap<>();
        try (Connection c = pg.connect(DB); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, version FROM " + table)) {
            while (rs.next()) {
                rows.put(rs.getInt(1), rs.getInt(2));
            }
        }
        return rows;
    }

    /** The newest version of every key, as a consumer applying the topic in order ends with. */
    private static Map<Integer, Integer> appliedVersions(List<Message> messages) {
        Map<Integer, Integer> rows = new TreeMap<>();
        for (Message m : messages) {
            JsonNode after = m.value() == null ? null : m.value().path("after");
            if (after != null && after.isObject()) {
                rows.put(after.path("id").asInt(), after.path("version").asInt());
            }
        }
        return rows;
    }

    /** Waits for the topic to show the table as it is once the writers stopped, and for no key to have gone back. */
    private void assertNoKeyWentBack(TopicReader reader, String table) throws Exception {
        Map<Integer, Integer> expected = versions(table);
        List<Message> messages;
        try {
            messages = reader.readUntil(Duration.ofMinutes(3), "the topic to describe the table",
                    m -> appliedVersions(m).equals(expected));
        } catch (AssertionError e) {
            List<Message> seen = reader.poll(Duration.ofSeconds(1));
            Map<Integer, Integer> applied = appliedVersions(seen);
            long differing = expected.keySet().stream().filter(id -> !expected.get(id).equals(applied.get(id))).count();
            throw new AssertionError(e.getMessage() + "; " + differing + " keys differ from the table, "
                    + wentBack(seen).size() + " records showed a row older than a record before them", e);
        }
        List<String> back = wentBack(messages);
        assertTrue(back.isEmpty(), back.size() + " records showed a row older than a record before them, e.g. "
                + back.subList(0, Math.min(5, back.size())));
    }

    @Test
    void noKeyGoesBackWhenASnapshotResumesAfterTheWorkerIsKilled() throws Exception {
        int rows = 60_000;
        whileVersionsClimb("climbing", rows, () -> {
            cluster.killWorkers(); // the task runs on the worker this test kills
            ForkedConnectWorker first = cluster.startWorker();
            Map<String, String> config = sourceConfig(pg, DB, "climb", "public\\.climbing");
            config.put("snapshot.fetch.size", "200");
            first.putConnector("climb", config);
            try (TopicReader reader = new TopicReader(kafka, "climb\\.public\\.climbing")) {
                reader.readUntil(Duration.ofMinutes(3), "a quarter of the snapshot, and its offset stored",
                        m -> snapshotRows(m) >= rows / 4 && storedOffset(first, "climb").contains("snapshot_table"));
                first.kill();
                ForkedConnectWorker second = cluster.startWorker();
                awaitTaskRunning(second, "climb");
                reader.readUntil(Duration.ofMinutes(3), "every row sent", m -> keysSent(m) == rows);
                Thread.sleep(2_000); // changes streamed after the snapshot, too
            }
        });
        try (TopicReader reader = new TopicReader(kafka, "climb\\.public\\.climbing")) {
            assertNoKeyWentBack(reader, "climbing");
        }
        cluster.anyWorker().deleteConnector("climb");
    }

    @Test
    void noKeyGoesBackWhenWorkersAreKilledBeforeTheirFirstOffsetFlush() throws Exception {
        int rows = 40_000;
        Map<String, String> neverFlushed = Map.of("offset.flush.interval.ms", "600000");
        whileVersionsClimb("rising", rows, () -> {
            cluster.killWorkers(); // the task runs on the workers this test kills, which store no offset
            ForkedConnectWorker first = cluster.startWorker(neverFlushed);
            Map<String, String> config = sourceConfig(pg, DB, "rise", "public\\.rising");
            config.put("snapshot.fetch.size", "500");
            first.putConnector("rise", config);
            try (TopicReader reader = new TopicReader(kafka, "rise\\.public\\.rising")) {
                List<Message> atFirstKill = reader.readUntil(Duration.ofMinutes(3), "a quarter of the snapshot",
                        m -> snapshotRows(m) >= rows / 4);
                first.kill();
                int before = atFirstKill.size();
                ForkedConnectWorker second = cluster.startWorker(neverFlushed);
                awaitTaskRunning(second, "rise");
                reader.readUntil(Duration.ofMinutes(3), "every row sent again since the kill",
                        m -> keysSent(m.subList(Math.min(before, m.size()), m.size())) == rows);
                second.kill();
                ForkedConnectWorker third = cluster.startWorker();
                awaitTaskRunning(third, "rise");
                Thread.sleep(2_000);
            }
        });
        try (TopicReader reader = new TopicReader(kafka, "rise\\.public\\.rising")) {
            assertNoKeyWentBack(reader, "rising");
        }
        cluster.anyWorker().deleteConnector("rise");
    }

    @Test
    void aTableAlteredDuringTheSnapshotIsReadOnAsItIsNow() throws Exception {
        pg.execute(DB, "CREATE TABLE alter_a (id int PRIMARY KEY, balance int, note text)",
                "INSERT INTO alter_a SELECT g, g, 'a' FROM generate_series(1, 60000) g",
                "CREATE TABLE alter_b (id int PRIMARY KEY, balance int, gone text, note text)",
                "INSERT INTO alter_b SELECT g, g, 'x', 'b' FROM generate_series(1, 100) g");
        ForkedConnectWorker worker = cluster.anyWorker();
        Map<String, String> config = sourceConfig(pg, DB, "altered", "public\\.alter_.*");
        config.put("snapshot.fetch.size", "100");
        worker.putConnector("altered", config);
        try (TopicReader reader = new TopicReader(kafka, "altered\\.public\\.alter_.*")) {
            reader.readUntil(Duration.ofMinutes(2), "the first table's rows", m -> snapshotRows(m) > 0);
            // The snapshot, taken before, still shows the column; a SELECT planned now does not find it.
            pg.execute(DB, "ALTER TABLE alter_b DROP COLUMN gone");
            Map<Integer, String> expected = table("alter_b");
            List<Message> messages = reader.readUntil(Duration.ofMinutes(3), "the second table's rows",
                    m -> replay(m.stream().filter(r -> r.topic().endsWith(".alter_b")).toList()).equals(expected));
            List<Message> ofB = messages.stream().filter(m -> m.topic().endsWith(".alter_b")).toList();
            assertTrue(ofB.stream().noneMatch(m -> m.value().path("after").has("gone")), "read as the table is now");
            assertEquals("RUNNING", worker.status("altered").path("tasks").path(0).path("state").asText());
        }
    }

    private static long distinctRead(List<Message> messages, String table) {
        return messages.stream().filter(m -> m.topic().endsWith("." + table) && m.value() != null
                && "r".equals(m.value().path("op").asText())).map(m -> m.value().path("after").path("id").asInt())
                .distinct().count();
    }

    @Test
    void whenNeededTakesANewSnapshotWhenTheSlotWasDroppedBehindTheConnectorsBack() throws Exception {
        pg.execute(DB, "CREATE TABLE notes (id int PRIMARY KEY, balance int, note text)",
                "INSERT INTO notes SELECT g, g, 'old' FROM generate_series(1, 100) g");
        ForkedConnectWorker worker = cluster.anyWorker();
        Map<String, String> config = sourceConfig(pg, DB, "needed", "public\\.notes");
        config.put("snapshot.mode", "when_needed");
        worker.putConnector("needed", config);
        try (TopicReader reader = new TopicReader(kafka, "needed\\.public\\.notes")) {
            reader.readUntil(Duration.ofMinutes(2), "the first snapshot", SnapshotIT::snapshotFinished);
            pg.execute(DB, "UPDATE notes SET note = 'streamed' WHERE id = 1");
            reader.readUntil(Duration.ofMinutes(1), "the update", m -> m.stream().anyMatch(
                    r -> r.value() != null && "u".equals(r.value().path("op").asText())));
            Await.until(Duration.ofMinutes(1), "Connect to store the update's (streaming) offset",
                    () -> worker.get("/connectors/needed/offsets").body().contains("\"lsn_commit\"")
                            && !worker.get("/connectors/needed/offsets").body().contains("snapshot_table"));

            worker.deleteConnector("needed"); // Connect keeps the offsets
            Await.until(Duration.ofMinutes(1), "the slot released",
                    () -> "f".equals(pg.queryValue(DB, "SELECT active FROM pg_replication_slots WHERE slot_name = 'needed'")));
            pg.execute(DB, "SELECT pg_drop_replication_slot('needed')");
            pg.execute(DB, "UPDATE notes SET note = 'lost from the stream' WHERE id = 2");
            worker.putConnector("needed", config);

            Map<Integer, String> expected = table("notes");
            List<Message> messages = reader.readUntil(Duration.ofMinutes(2), "a second snapshot with the lost change",
                    m -> replay(m).equals(expected) && snapshotRows(m) >= 200);
            assertEquals(200, snapshotRows(reader.poll(Duration.ofSeconds(1))), "every row read by each of the two snapshots");
            assertEquals(expected, replay(messages));
        }
    }
}
