package io.pgcdc.source;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.ServerVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.source.ChangeEventEmitter.RecordSink;
import io.pgcdc.source.ChangeRecordFactory.Transaction;
import io.pgcdc.source.SourceOffset.IncrementalProgress;
import io.pgcdc.source.pgoutput.TupleData;
import io.pgcdc.source.schema.TableSchema;
import io.pgcdc.source.schema.TableSchemaBuilder;

/**
 * Reads the captured tables' rows as op 'r' records, in REPEATABLE READ transactions that share
 * one snapshot: the one a new slot exported, so the stream continues exactly where the rows end.
 * Without it (a resumed snapshot, a slot that already existed, a lost connection) the stream starts
 * at the slot's position, before changes a fresh snapshot would already show: a row read now and
 * then an older change replayed would send that row back in time. So keyed tables are then left to
 * be read in chunks while streaming ({@link IncrementalSnapshot}); only tables without a key, which
 * no consumer can follow by key, are read here under a fresh snapshot (as all are before PostgreSQL
 * 14, which sends the stream no watermarks).
 *
 * <p>Tables are started in name order, {@code snapshot.max.threads} at a time, each read in key
 * order with a server-side cursor, so memory holds one fetch per thread at most. Rows are handed
 * over under one lock, which also records in each row's offset how far every table got; a
 * restart resumes after the last row Connect stored. The last row is held back until the end, so
 * that it can say the snapshot is done.
 */
final class Snapshotter {

    private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);
    private static final long PROGRESS_LOG_INTERVAL_NANOS = 10_000_000_000L;

    private static final String TABLES = "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
            + "WHERE pubname = ? ORDER BY 1, 2";

    /** Where the snapshot's view comes from. */
    record Source(String exportedSnapshot, long lsn) { }

    /** Takes tables to read in chunks while streaming, each with the key to continue after (null: from the start). */
    @FunctionalInterface
    interface ChunkedRest {
        /** Returns the progress every offset carries from then on. */
        IncrementalProgress take(Map<String, String> tables);
    }

    /** A captured table by its schema and name, which may both contain dots. */
    record Table(String schema, String name) {
        /** As offsets and logs name it. */
        String qualified() {
            return schema + "." + name;
        }
    }

    private final SourceConfig config;
    private final Catalog catalog;
    private final TableSchemaBuilder schemas;
    private final ChangeRecordFactory records;
    private final SourceMetrics metrics;

    // Guarded by lock: the catalog, the frontier, the row held back and hand-over to the sink.
    private final Object lock = new Object();
    private SnapshotFrontier frontier;
    private Map<String, Table> captured;
    private Pending pending;
    private IncrementalProgress chunked;
    private volatile SourceOffset handedOver;

    /** A row not handed over yet: its record is built once it is known whether it is the last. */
    private record Pending(ChangePosition position, String table, String key, Function<SourceOffset, SourceRecord> build,
                           long bytes) { }

    Snapshotter(SourceConfig config, Catalog catalog, TableSchemaBuilder schemas, ChangeRecordFactory records,
                SourceMetrics metrics) {
        this.config = config;
        this.catalog = catalog;
        this.schemas = schemas;
        this.records = records;
        this.metrics = metrics;
    }

    /** The offset of the last record handed over (or what the snapshot resumed from): where a retry continues. */
    SourceOffset handedOver() {
        return handedOver;
    }

    /**
     * Reads every captured table, or what remains after {@code resumeFrom}.
     *
     * @param resumeFrom the offset of the last snapshot row Connect holds; null to start from the first table
     * @param opened     called once the snapshot is imported (the exporting connection may close then)
     * @param rest       where keyed tables go when the snapshot is not the slot's own; null when nothing streams
     * @return the offset of the last record handed over, or {@code resumeFrom} when there was none
     */
    SourceOffset run(Source source, SourceOffset resumeFrom, Runnable opened, RecordSink sink, ChunkedRest rest)
            throws SQLException, InterruptedException {
        handedOver = resumeFrom;
        pending = null;
        chunked = resumeFrom == null ? null : resumeFrom.incremental();
        frontier = new SnapshotFrontier(resumeFrom == null ? null : resumeFrom.snapshot());
        List<Connection> connections = new ArrayList<>();
        ExecutorService workers = null;
        try {
            Connection first = open(source.exportedSnapshot());
            connections.add(first);
            captured = tables(first);
            List<String> tables = new ArrayList<>(captured.keySet());
            Map<String, String> remaining = frontier.remaining(tables);
            if (source.exportedSnapshot() == null && rest != null) {
                handOffKeyed(first, remaining, rest);
                if (remaining.isEmpty()) {
                    opened.run();
                    return handedOver;
                }
            }
            int threads = Math.max(1, Math.min(config.snapshotMaxThreads(), remaining.size()));
            String shared = source.exportedSnapshot();
            if (threads > 1 && shared == null) {
                shared = exportSnapshot(first);
            }
            while (connections.size() < threads) {
                connections.add(open(shared));
            }
            opened.run();
            long lsn = source.lsn() != 0 ? source.lsn() : streamStart(first);
            Transaction tx = new Transaction(0, lsn, System.currentTimeMillis() * 1000);
            metrics.snapshotStarted(tables.size(), tables.size() - remaining.size());
            log.info("Snapshot of {} tables ({}) with {} thread(s) {}", remaining.size(), remaining.keySet(), threads,
                    source.exportedSnapshot() != null ? "under the new slot's exported snapshot" : "under a fresh snapshot");
            workers = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "pgcdc-snapshot-" + config.slotName());
                t.setDaemon(true);
                return t;
            });
            List<Future<Void>> reads = new ArrayList<>();
            for (Connection c : connections) {
                reads.add(workers.submit(() -> {
                    readTables(c, tx, sink);
                    return null;
                }));
            }
            awaitAll(reads, connections);
            synchronized (lock) {
                if (pending != null) {
                    release(true, sink);
                }
            }
            for (Connection c : connections) {
                c.commit();
            }
            metrics.snapshotFinished();
            log.info("Snapshot done");
            return handedOver;
        } finally {
            if (workers != null) {
                workers.shutdownNow();
            }
            for (Connection c : connections) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // nothing was written; the transaction ends with the connection
                }
            }
        }
    }

    /** Leaves the keyed tables of {@code remaining} to {@code rest}, and takes them out of it. */
    private void handOffKeyed(Connection c, Map<String, String> remaining, ChunkedRest rest) throws SQLException {
        if (!c.unwrap(BaseConnection.class).haveMinimumServerVersion(ServerVersion.v14)) {
            log.warn("Snapshot of {} under a fresh snapshot: PostgreSQL before 14 sends no watermarks to read them in "
                    + "chunks while streaming, so changes replayed from the slot's position after them may show rows "
                    + "older than they were read", remaining.keySet());
            return;
        }
        Map<String, String> keyed = new LinkedHashMap<>();
        for (Map.Entry<String, String> table : remaining.entrySet()) {
            if (SnapshotTable.describe(c, captured.get(table.getKey()), schemas, catalog).keyed()) {
                keyed.put(table.getKey(), table.getValue());
            }
        }
        if (!keyed.isEmpty()) {
            chunked = rest.take(keyed);
            frontier.handOff(keyed.keySet());
            remaining.keySet().removeAll(keyed.keySet());
        }
    }

    private Connection open(String snapshot) throws SQLException {
        Connection c = DriverManager.getConnection(config.jdbcUrl(), config.snapshotProperties());
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            if (snapshot != null) {
                s.execute("SET TRANSACTION SNAPSHOT " + Sql.literal(snapshot));
            }
        }
        return c;
    }

    /** Lets the other threads' transactions see exactly what the first one sees. */
    private static String exportSnapshot(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_catalog.pg_export_snapshot()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Waits for every thread; the first failure closes the others' connections (ending their reads) and is thrown. */
    private static void awaitAll(List<Future<Void>> reads, List<Connection> connections)
            throws SQLException, InterruptedException {
        for (Future<Void> read : reads) {
            try {
                read.get();
            } catch (ExecutionException e) {
                for (Connection c : connections) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // failing anyway
                    }
                }
                Throwable cause = e.getCause();
                if (cause instanceof SQLException sql) {
                    throw sql;
                }
                if (cause instanceof InterruptedException interrupted) {
                    throw interrupted;
                }
                if (cause instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new ConnectException("Snapshot failed: " + cause.getMessage(), cause);
            }
        }
    }

    /** The captured tables by qualified name, in name order. */
    private Map<String, Table> tables(Connection c) throws SQLException {
        Map<String, Table> tables = new java.util.TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement(TABLES)) {
            ps.setString(1, config.publicationName());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (config.captures(rs.getString(1), rs.getString(2))) {
                        Table table = new Table(rs.getString(1), rs.getString(2));
                        tables.put(table.qualified(), table);
                    }
                }
            }
        }
        return tables;
    }

    /** Where streaming will start: the slot's position, or (no slot: initial_only) the current WAL position. */
    private long streamStart(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce((SELECT confirmed_flush_lsn FROM "
                + "pg_catalog.pg_replication_slots WHERE slot_name = ?), pg_catalog.pg_current_wal_lsn())::text")) {
            ps.setString(1, config.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return org.postgresql.replication.LogSequenceNumber.valueOf(rs.getString(1)).asLong();
            }
        }
    }

    private void readTables(Connection c, Transaction tx, RecordSink sink) throws SQLException, InterruptedException {
        while (true) {
            Map.Entry<String, String> next;
            synchronized (lock) {
                next = frontier.next();
            }
            if (next == null) {
                return;
            }
            readTable(c, next.getKey(), next.getValue(), tx, sink);
        }
    }

    private void readTable(Connection c, String qualified, String afterKey, Transaction tx, RecordSink sink)
            throws SQLException, InterruptedException {
        SnapshotTable table;
        synchronized (lock) {
            table = SnapshotTable.describe(c, captured.get(qualified), schemas, catalog);
            metrics.snapshotTable(qualified, table.estimatedRows());
        }
        if (afterKey != null && !table.keyed()) {
            afterKey = null;
            log.info("Snapshot of {} restarts from its first row: the table has no key to resume by", qualified);
        }
        long rows = 0;
        long nextLog = System.nanoTime() + PROGRESS_LOG_INTERVAL_NANOS;
        List<String> unconvertible = new ArrayList<>(); // one per table read, not one per row
        try (PreparedStatement ps = table.select(c, afterKey, 0)) {
            ps.setFetchSize(config.snapshotFetchSize());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    hand(row(table, table.values(rs), tx, unconvertible), sink);
                    rows++;
                    metrics.snapshotRow();
                    if (System.nanoTime() - nextLog > 0) {
                        log.info("Snapshot of {}: {} of ~{} rows", qualified, rows, Math.max(rows, table.estimatedRows()));
                        nextLog = System.nanoTime() + PROGRESS_LOG_INTERVAL_NANOS;
                    }
                }
            }
        }
        synchronized (lock) {
            frontier.read(qualified, pending != null && pending.table().equals(qualified));
            metrics.snapshotTableDone();
        }
        log.info("Snapshot of {}: {} rows", qualified, rows);
    }

    /** Converts a row outside the lock: threads convert in parallel, and only hand over one at a time. */
    private Pending row(SnapshotTable table, String[] values, Transaction tx, List<String> unconvertible) {
        TableSchema schema = table.schema();
        Struct row = schema.row(TupleData.ofText(values), unconvertible);
        Struct key = schema.keySchema() == null ? null : schema.keyOf(row);
        UnconvertibleValues.report(schema, key, unconvertible, metrics);
        long bytes = 256;
        for (String value : values) {
            bytes += value == null ? 0 : value.length();
        }
        return new Pending(new ChangePosition(tx.commitLsn(), 0, 0), table.qualified(), table.keyText(values),
                offset -> records.snapshotRow(schema, tx, key, row, offset.snapshot().done() ? "last" : "true", offset),
                bytes);
    }

    /** Hands over the row held back so far, and holds this one back. */
    private void hand(Pending row, RecordSink sink) throws InterruptedException {
        synchronized (lock) {
            if (pending != null) {
                release(false, sink);
            }
            pending = row;
        }
    }

    private void release(boolean last, RecordSink sink) throws InterruptedException {
        Pending p = pending;
        pending = null;
        frontier.handedOver(p.table(), p.key());
        // Complete: in exactly-once mode a Kafka transaction may end after any snapshot row.
        SourceOffset offset = new SourceOffset(p.position(), true, 0, frontier.progress(last), chunked);
        sink.accept(p.build().apply(offset), p.bytes());
        handedOver = offset;
    }
}
