package io.pgcdc.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time one contender cost while it ran: the PostgreSQL processes serving it (what it costs the
 * database, read from each process's {@code /proc/<pid>/schedstat}) and this JVM's (worker, broker
 * and driver together: comparable between contenders of one run, not the worker's own). Rates on a
 * 2-core machine move with whatever else is runnable; CPU per row moves far less.
 */
final class CpuCost implements AutoCloseable {

    /** Seconds of CPU; database is -1 where its processes could not be read (not Linux). */
    record Seconds(double database, double jvm) { }

    private static final long POLL_MILLIS = 50;
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final Connection connection;
    private final PreparedStatement serving;
    private final long jvmStartNanos = OS.getProcessCpuTime();
    /** Each process that served the contender, with its latest CPU time: it may reconnect, or use several. */
    private final Map<Long, Long> processNanos = new HashMap<>();
    /** Without schedstat (not Linux, or a kernel built without it) the database's share is not known. */
    private final boolean unreadable = !Files.isReadable(Path.of("/proc/self/schedstat"));
    private final Thread sampler;
    private volatile boolean running = true;
    private volatile boolean failed;

    private CpuCost(Database database, String servingPids) throws SQLException {
        this.connection = database.connect();
        this.serving = connection.prepareStatement(servingPids);
        this.sampler = new Thread(this::sample, "cpu-cost");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Counts the walsender of {@code slot}, from before the contender connects to it. */
    static CpuCost walsender(Database oltp, String slot) throws SQLException {
        return new CpuCost(oltp, "SELECT active_pid FROM pg_replication_slots WHERE active_pid IS NOT NULL AND slot_name = '"
                + slot + "'");
    }

    /** Counts every client backend of the database but this counter's own. */
    static CpuCost backends(Database database) throws SQLException {
        return new CpuCost(database, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                + "AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
    }

    /**
     * Stops counting and gives the CPU used since the start. A process's last {@value #POLL_MILLIS} ms
     * before it exited may be missed: a few per cent of the shortest runs.
     */
    Seconds stop() {
        double jvm = (OS.getProcessCpuTime() - jvmStartNanos) / 1e9;
        close();
        synchronized (processNanos) {
            long total = processNanos.values().stream().mapToLong(Long::longValue).sum();
            return new Seconds(unreadable || failed ? -1 : total / 1e9, jvm);
        }
    }

    /** Stops counting, if {@link #stop} did not already. */
    @Override
    public void close() {
        running = false;
        try {
            sampler.join();
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            // the counter's own connection: nothing depends on closing it cleanly
        }
    }

    private void sample() {
        while (running && !unreadable) {
            try (ResultSet rs = serving.executeQuery()) {
                while (rs.next()) {
                    read(rs.getLong(1));
                }
            } catch (SQLException e) {
                failed = true;
                return;
            }
            TestBed.sleep(POLL_MILLIS);
        }
    }

    private void read(long pid) {
        try {
            // The first field is the time the process has run on a CPU, in nanoseconds.
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "schedstat"));
            long nanos = Long.parseLong(stat.substring(0, stat.indexOf(' ')));
            synchronized (processNanos) {
                processNanos.put(pid, nanos);
            }
        } catch (IOException | RuntimeException e) {
            // the process exited between the query and the read: its latest reading stands
        }
    }
}
