package io.pgcdc.quickstart;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A time-tracking application at work: concurrent transactions that track time, correct it,
 * delete it and rename projects, plus one large transaction (an import).
 */
public final class Workload implements AutoCloseable {

    static final int TEAMS = 5;
    static final int USERS = 50;
    static final int PROJECTS = 20;
    static final int HISTORY = 5_000;

    private final Database oltp;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong transactions = new AtomicLong();
    private final ExecutorService pool;
    private final List<Future<?>> writers = new ArrayList<>();
    private final Duration pause;

    /**
     * The application's history before the pipeline exists: teams, users, projects and some time
     * already tracked. The source's initial snapshot carries it to the OLAP side. An earlier run
     * against the same database left these rows: they are kept.
     */
    public static void history(Database oltp) throws SQLException {
        oltp.execute(
                "INSERT INTO teams SELECT g, 'team ' || g FROM generate_series(1, " + TEAMS + ") g ON CONFLICT DO NOTHING",
                "INSERT INTO users SELECT g, 1 + g % " + TEAMS + ", 'user' || g || '@example.com' FROM generate_series(1, "
                        + USERS + ") g ON CONFLICT DO NOTHING",
                "INSERT INTO projects SELECT g, 1 + g % " + TEAMS + ", 'project ' || g FROM generate_series(1, " + PROJECTS
                        + ") g ON CONFLICT DO NOTHING",
                "INSERT INTO time_entries (user_id, project_id, duration_s, description) SELECT 1 + g % " + USERS
                        + ", 1 + g % " + PROJECTS + ", 60 + g % 3600, 'history' FROM generate_series(1, " + HISTORY
                        + ") g WHERE NOT EXISTS (SELECT 1 FROM time_entries)");
    }

    /** Starts {@code writers} concurrent writers on a database that has its {@link #history}. */
    public Workload(Database oltp, int writers) {
        this(oltp, writers, Duration.ZERO);
    }

    /**
     * The same, each writer pausing {@code pause} after each commit: a load the pipeline can drain while
     * faults interrupt it, instead of a backlog that grows for as long as the run lasts.
     */
    public Workload(Database oltp, int writers, Duration pause) {
        this.oltp = oltp;
        this.pause = pause;
        this.pool = Executors.newFixedThreadPool(writers + 1);
        for (int i = 0; i < writers; i++) {
            this.writers.add(pool.submit(this::write));
        }
    }

    public long transactions() {
        return transactions.get();
    }

    private Void write() throws SQLException, InterruptedException {
        try (Connection c = oltp.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO time_entries (user_id, project_id, duration_s, description) VALUES (?, ?, ?, 'work')");
                 Statement s = c.createStatement()) {
                while (running.get()) {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    int entries = 1 + random.nextInt(5);
                    for (int i = 0; i < entries; i++) {
                        insert.setLong(1, 1 + random.nextInt(USERS));
                        insert.setLong(2, 1 + random.nextInt(PROJECTS));
                        insert.setInt(3, 60 + random.nextInt(7200));
                        insert.addBatch();
                    }
                    insert.executeBatch();
                    int action = random.nextInt(10);
                    if (action < 5) {
                        s.execute("UPDATE time_entries SET duration_s = duration_s + 60 WHERE id = (SELECT max(id) - "
                                + random.nextInt(50) + " FROM time_entries)");
                    } else if (action < 7) {
                        s.execute("DELETE FROM time_entries WHERE id = (SELECT max(id) - " + random.nextInt(100)
                                + " FROM time_entries)");
                    } else if (action == 7) {
                        s.execute("UPDATE projects SET name = name || '.' WHERE id = " + (1 + random.nextInt(PROJECTS)));
                    }
                    c.commit();
                    transactions.incrementAndGet();
                    if (!pause.isZero()) {
                        Thread.sleep(pause.toMillis());
                    }
                }
            }
        }
        return null;
    }

    /** An import: {@code rows} time entries in one transaction, in the background. */
    public Future<?> largeTransaction(int rows) {
        return pool.submit(() -> {
            oltp.execute("INSERT INTO time_entries (user_id, project_id, duration_s, description) "
                    + "SELECT 1 + g % " + USERS + ", 1 + g % " + PROJECTS + ", 60 + g % 600, 'import' FROM generate_series(1, "
                    + rows + ") g");
            transactions.incrementAndGet();
            return null;
        });
    }

    /** Stops the writers and waits for their last transactions. */
    @Override
    public void close() throws Exception {
        running.set(false);
        for (Future<?> writer : writers) {
            writer.get();
        }
        pool.shutdown();
    }
}
