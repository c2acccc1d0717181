package io.pgcdc.benchmarks;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Commit-to-visible latency through our source and sink at a steady offered load: each row carries
 * its insert time (clock_timestamp()), an OLAP row trigger stamps its arrival, and both clocks are
 * the same server's.
 */
final class LatencyBenchmark {

    /** Latency percentiles in milliseconds over the rows after the warm-up. */
    record Result(double p50Ms, double p99Ms, long rows, HeapPeak.Peaks heap, String failure) {
        static Result failed(String reason) {
            return new Result(0, 0, 0, null, reason);
        }

        String describe() {
            return failure != null ? "n/a (" + failure + ")"
                    : String.format("p50 %.0f ms, p99 %.0f ms over %,d rows", p50Ms, p99Ms, rows);
        }
    }

    static final int ROWS_PER_SECOND = 1_000;
    private static final int ROWS_PER_TRANSACTION = 10;
    private static final Duration WARM_UP = Duration.ofSeconds(5);
    private static final String TABLE = "w_latency";
    private static final String SLOT = "pgcdc_" + TABLE;

    private final TestBed bed;

    LatencyBenchmark(TestBed bed) {
        this.bed = bed;
    }

    Result run(Duration measured) {
        String target = SinkBenchmark.pgcdcTarget(TABLE);
        String topic = SourceBenchmark.pgcdcTopic(TABLE);
        try {
            bed.oltp().execute(Workload.ddl(TABLE), "CREATE PUBLICATION bench_" + TABLE + " FOR TABLE " + TABLE);
            bed.olap().execute(Workload.ddl(target), Workload.POSITION_COLUMN.formatted(target),
                    "ALTER TABLE " + target + " ADD COLUMN arrived_at timestamptz",
                    "CREATE FUNCTION stamp_arrival() RETURNS trigger LANGUAGE plpgsql AS "
                            + "$$BEGIN NEW.arrived_at := clock_timestamp(); RETURN NEW; END$$",
                    "CREATE TRIGGER stamp_arrival BEFORE INSERT OR UPDATE ON " + target
                            + " FOR EACH ROW EXECUTE FUNCTION stamp_arrival()");
            bed.topics().create(topic);
            HeapPeak.reset();
            bed.startConnector("pgcdc-source-latency", Contenders.pgcdcSource(bed.oltp(), SLOT, "bench_" + TABLE, TABLE,
                    SourceBenchmark.PGCDC));
            bed.startConnector("pgcdc-sink-latency", Contenders.pgcdcSink(bed.olap(), topic, target, true));
            try {
                awaitSlot();
                long warmUpRows = offer(WARM_UP, 0);
                long total = offer(measured, warmUpRows);
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (bed.olap().queryLong("SELECT count(*) FROM " + target) < total) {
                    bed.failIfFailed("pgcdc-source-latency");
                    bed.failIfFailed("pgcdc-sink-latency");
                    if (System.nanoTime() > deadline) {
                        return Result.failed("not all rows arrived within 120 s");
                    }
                    TestBed.sleep(200);
                }
                HeapPeak.Peaks heap = HeapPeak.read();
                return percentiles(target, warmUpRows, total - warmUpRows, heap);
            } finally {
                bed.deleteConnector("pgcdc-sink-latency");
                bed.deleteConnector("pgcdc-source-latency");
            }
        } catch (Exception e) {
            return Result.failed(e.getMessage());
        }
    }

    /** The source creates its slot when it starts; rows committed before that would never arrive. */
    private void awaitSlot() throws SQLException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (bed.oltp().queryLong("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '" + SLOT + "'") == 0) {
            bed.failIfFailed("pgcdc-source-latency");
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the source did not open its slot within 60 s");
            }
            TestBed.sleep(100);
        }
    }

    /** Inserts ROWS_PER_SECOND rows a second, in small transactions at a fixed rate; returns the last id. */
    private long offer(Duration duration, long lastId) throws Exception {
        AtomicLong id = new AtomicLong(lastId);
        AtomicReference<Exception> failure = new AtomicReference<>();
        long transactions = duration.toMillis() * ROWS_PER_SECOND / 1000 / ROWS_PER_TRANSACTION;
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        try (Connection c = bed.oltp().connect(); Statement s = c.createStatement()) {
            AtomicLong sent = new AtomicLong();
            clock.scheduleAtFixedRate(() -> {
                if (sent.get() >= transactions || failure.get() != null) {
                    return;
                }
                long first = id.get() + 1;
                long last = id.addAndGet(ROWS_PER_TRANSACTION);
                try {
                    s.execute("INSERT INTO " + TABLE + " (id, version, label) SELECT g, 0, 'row ' || g FROM generate_series("
                            + first + ", " + last + ") g");
                } catch (SQLException e) {
                    failure.set(e);
                }
                sent.incrementAndGet();
            }, 0, 1000L * ROWS_PER_TRANSACTION / ROWS_PER_SECOND, TimeUnit.MILLISECONDS);
            while (sent.get() < transactions && failure.get() == null) {
                TestBed.sleep(50);
            }
        } finally {
            clock.shutdown();
            clock.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return id.get();
    }

    private Result percentiles(String target, long afterId, long rows, HeapPeak.Peaks heap) throws SQLException {
        try (Connection c = bed.olap().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) "
                        + "FROM (SELECT extract(epoch FROM arrived_at - updated_at) * 1000 AS ms FROM " + target
                        + " WHERE id > " + afterId + ") x")) {
            rs.next();
            return new Result(rs.getDouble(1), rs.getDouble(2), rows, heap, null);
        }
    }
}
