package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.JsonNode;

import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.TopicReader;
import io.pgcdc.testsupport.TopicReader.Message;

/**
 * Concurrent writers whose every committed change can be checked against Kafka afterwards:
 * inserts of unique rows into {@code ledger}, and per-writer counters in {@code counters}
 * whose every value 1..n is one update. Writers survive a restarting database: the database's
 * final state, not the writers' memory, is the truth about in-doubt commits.
 */
final class WriteLoad implements AutoCloseable {

    private final PostgresServer pg;
    private final String db;
    private final String prefix;
    private final int writers;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService pool;
    private final List<Future<?>> futures = new ArrayList<>();

    WriteLoad(PostgresServer pg, String db, String prefix, int writers) throws SQLException {
        this.pg = pg;
        this.db = db;
        this.prefix = prefix;
        this.writers = writers;
        pg.execute(db, "CREATE TABLE ledger (id bigint PRIMARY KEY, writer int, seq int, note text)",
                "CREATE TABLE counters (id int PRIMARY KEY, n int)");
        for (int w = 0; w < writers; w++) {
            pg.execute(db, "INSERT INTO counters VALUES (" + w + ", 0)");
        }
        pool = Executors.newFixedThreadPool(writers + 1);
    }

    static String tables() {
        return "public\\.(ledger|counters)";
    }

    void start() {
        for (int w = 0; w < writers; w++) {
            int writer = w;
            futures.add(pool.submit(() -> write(writer)));
        }
    }

    private Void write(int writer) throws InterruptedException {
        int seq = 0;
        while (running.get()) {
            try (Connection c = pg.connect(db)) {
                c.setAutoCommit(false);
                while (running.get()) {
                    try (Statement s = c.createStatement()) {
                        int rows = 1 + ThreadLocalRandom.current().nextInt(5);
                        for (int r = 0; r < rows; r++) {
                            s.execute("INSERT INTO ledger VALUES (" + ((long) writer * 100_000_000L + seq++) + ", "
                                    + writer + ", " + seq + ", 'w')");
                        }
                        s.execute("UPDATE counters SET n = n + 1 WHERE id = " + writer);
                    }
                    c.commit();
                    Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                }
            } catch (SQLException e) {
                Thread.sleep(100); // the database restarts: connect again
            }
        }
        return null;
    }

    /** One transaction inserting {@code rows} rows, run in the background; returns when it committed. */
    Future<?> largeTransaction(int rows, long firstId) {
        return pool.submit(() -> {
            pg.execute(db, "INSERT INTO ledger SELECT g, -1, 0, 'large' FROM generate_series(" + firstId + ", "
                    + (firstId + rows - 1) + ") g");
            return null;
        });
    }

    @Override
    public void close() throws Exception {
        running.set(false);
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
    }

    /**
     * Waits until Kafka holds every committed change, then checks each is there exactly once:
     * every ledger row as one create, every counter value as one update, and no two records at
     * the same (commit LSN, change index, op).
     */
    void verify(TopicReader reader, Duration timeout) throws SQLException {
        Set<Long> ids = new HashSet<>();
        Map<Integer, Integer> counts = new HashMap<>();
        try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT id FROM ledger")) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT id, n FROM counters")) {
                while (rs.next()) {
                    counts.put(rs.getInt(1), rs.getInt(2));
                }
            }
        }
        // The counters existed before the connector: the initial snapshot reads each once, at 0.
        int expected = ids.size() + counts.values().stream().mapToInt(Integer::intValue).sum() + counts.size();
        List<Message> records = reader.readUntil(timeout, expected + " changes",
                m -> m.stream().filter(x -> x.value() != null).count() >= expected);
        records = reader.poll(Duration.ofSeconds(2));

        Map<Long, Integer> inserted = new HashMap<>();
        Map<String, Integer> counterValues = new HashMap<>();
        Set<String> positions = new HashSet<>();
        List<String> duplicatePositions = new ArrayList<>();
        for (Message m : records) {
            JsonNode value = m.value();
            if (value == null) {
                continue;
            }
            JsonNode source = value.get("source");
            // A snapshot row's position is its table and key; a streamed change's, its commit LSN and index.
            String position = value.get("op").asText().equals("r")
                    ? m.topic() + "/" + value.get("after").get("id").asText() + "/r"
                    : source.get("lsn_commit").asLong() + "/" + source.get("change_index").asInt() + "/"
                            + value.get("op").asText();
            if (!positions.add(position)) {
                duplicatePositions.add(position);
            }
            JsonNode after = value.get("after");
            if (m.topic().equals(prefix + ".public.ledger")) {
                inserted.merge(after.get("id").asLong(), 1, Integer::sum);
            } else {
                counterValues.merge(after.get("id").asInt() + "=" + after.get("n").asInt(), 1, Integer::sum);
            }
        }
        assertTrue(duplicatePositions.isEmpty(), "records emitted twice: " + duplicatePositions.size()
                + ", first " + duplicatePositions.subList(0, Math.min(5, duplicatePositions.size())));
        Set<Long> missing = new HashSet<>(ids);
        missing.removeAll(inserted.keySet());
        assertTrue(missing.isEmpty(), missing.size() + " committed rows missing from Kafka");
        assertEquals(ids, inserted.keySet(), "no row that was not committed");
        assertTrue(inserted.values().stream().allMatch(n -> n == 1), "every row exactly once");
        for (Map.Entry<Integer, Integer> counter : counts.entrySet()) {
            for (int n = 0; n <= counter.getValue(); n++) {
                assertEquals(1, counterValues.getOrDefault(counter.getKey() + "=" + n, 0),
                        "counter " + counter.getKey() + " at " + n + " exactly once (0: the snapshot's read)");
            }
        }
        assertEquals(counts.values().stream().mapToInt(Integer::intValue).sum() + counts.size(), counterValues.size());
    }
}
