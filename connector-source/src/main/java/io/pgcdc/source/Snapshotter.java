package io.pgcdc.source;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.function.Function;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.source.ChangeEventEmitter.RecordSink;
import io.pgcdc.source.ChangeRecordFactory.Transaction;
import io.pgcdc.source.SourceOffset.SnapshotProgress;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.pgoutput.TupleData;
import io.pgcdc.source.schema.TableSchema;
import io.pgcdc.source.schema.TableSchemaBuilder;

/**
 * Reads the captured tables' rows as op 'r' records, in one REPEATABLE READ transaction: under
 * the snapshot a new slot exported (so the stream continues exactly where the rows end), or, when
 * resuming or when the slot already existed, under a fresh one (the stream then replays changes
 * the rows already show; in commit order, ending at the newest, so the target converges).
 *
 * <p>Tables are read in name order, each in key order with a server-side cursor, so memory holds
 * one fetch at most, and a restart resumes after the last row Connect stored. The last row is held
 * back until the end, so that it can say the snapshot is done.
 */
final class Snapshotter {

    private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);
    private static final long PROGRESS_LOG_INTERVAL_NANOS = 10_000_000_000L;

    private static final String TABLES = "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
            + "WHERE pubname = ? ORDER BY 1, 2";
    private static final String COLUMNS = "SELECT c.oid, c.relreplident, c.reltuples::bigint, a.attname, a.atttypid, "
            + "a.atttypmod, CASE c.relreplident WHEN 'f' THEN true WHEN 'n' THEN false "
            + "ELSE coalesce(a.attnum = ANY(i.indkey), false) END "
            + "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            + "AND a.attgenerated = '' "
            + "LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) "
            + "OR (c.relreplident = 'i' AND i.indisreplident)) "
            + "WHERE n.nspname = ? AND c.relname = ? ORDER BY a.attnum";

    /** Where the snapshot's view comes from. */
    record Source(String exportedSnapshot, long lsn) { }

    /** A captured table by its schema and name, which may both contain dots. */
    private record Table(String schema, String name) {
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

    private Pending pending;
    private SourceOffset handedOver;

    /** A row not handed over yet: its record is built once it is known whether it is the last. */
    private record Pending(ChangePosition position, String table, String key, Function<SourceOffset, SourceRecord> build,
                           long bytes) { }

    Snapshotter(SourceConfig config, Catalog catalog, ChangeRecordFactory records, SourceMetrics metrics) {
        this.config = config;
        this.catalog = catalog;
        this.records = records;
        this.metrics = metrics;
        this.schemas = new TableSchemaBuilder(config.topicPrefix(), config.decimalHandling(),
                config.provideTransactionMetadata());
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
     * @return the offset of the last record handed over, or {@code resumeFrom} when there was none
     */
    SourceOffset run(Source source, SourceOffset resumeFrom, Runnable opened, RecordSink sink)
            throws SQLException, InterruptedException {
        handedOver = resumeFrom;
        pending = null;
        SnapshotProgress resumeAfter = resumeFrom == null ? null : resumeFrom.snapshot();
        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.snapshotProperties())) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                if (source.exportedSnapshot() != null) {
                    s.execute("SET TRANSACTION SNAPSHOT " + Sql.literal(source.exportedSnapshot()));
                }
            }
            opened.run();
            List<Table> tables = tables(c);
            long lsn = source.lsn() != 0 ? source.lsn() : streamStart(c);
            Transaction tx = new Transaction(0, lsn, System.currentTimeMillis() * 1000);
            int first = 0;
            if (resumeAfter != null) {
                while (first < tables.size() && tables.get(first).qualified().compareTo(resumeAfter.table()) < 0) {
                    first++;
                }
            }
            metrics.snapshotStarted(tables.size(), first);
            log.info("Snapshot of {} tables ({}) {}", tables.size() - first,
                    tables.subList(first, tables.size()).stream().map(Table::qualified).toList(),
                    source.exportedSnapshot() != null ? "under the new slot's exported snapshot"
                            : "under a fresh snapshot; changes since the slot's position are replayed after it");
            for (int t = first; t < tables.size(); t++) {
                Table table = tables.get(t);
                String after = resumeAfter != null && table.qualified().equals(resumeAfter.table())
                        ? resumeAfter.lastKey() : null;
                readTable(c, table, after, tx, sink);
                metrics.snapshotTableDone();
            }
            if (pending != null) {
                release(true, sink);
            }
            c.commit();
            metrics.snapshotFinished();
            log.info("Snapshot done");
            return handedOver;
        }
    }

    private List<Table> tables(Connection c) throws SQLException {
        List<Table> tables = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(TABLES)) {
            ps.setString(1, config.publicationName());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (config.captures(rs.getString(1), rs.getString(2))) {
                        tables.add(new Table(rs.getString(1), rs.getString(2)));
                    }
                }
            }
        }
        tables.sort(java.util.Comparator.comparing(Table::qualified));
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

    private void readTable(Connection c, Table captured, String afterKey, Transaction tx, RecordSink sink)
            throws SQLException, InterruptedException {
        String qualified = captured.qualified();
        String schema = captured.schema();
        String name = captured.name();
        TableRead table = describe(c, schema, name);
        List<Integer> order = table.schema().keyColumnIndexes();
        if (afterKey != null && order.isEmpty()) {
            afterKey = null;
            log.info("Snapshot of {} restarts from its first row: the table has no key to resume by", qualified);
        }
        String sql = select(schema, name, table.relation(), order, afterKey != null);
        metrics.snapshotTable(qualified, table.estimatedRows());
        long rows = 0;
        long nextLog = System.nanoTime() + PROGRESS_LOG_INTERVAL_NANOS;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setFetchSize(config.snapshotFetchSize());
            if (afterKey != null) {
                List<String> key = KeyText.decode(afterKey);
                for (int i = 0; i < key.size(); i++) {
                    ps.setString(i + 1, key.get(i));
                }
            }
            int columns = table.relation().columns().size();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String[] values = new String[columns];
                    long bytes = 0;
                    for (int i = 0; i < columns; i++) {
                        values[i] = rs.getString(i + 1);
                        bytes += values[i] == null ? 0 : values[i].length();
                    }
                    hand(table.schema(), qualified, values, order, tx, bytes, sink);
                    rows++;
                    metrics.snapshotRow();
                    if (System.nanoTime() - nextLog > 0) {
                        log.info("Snapshot of {}: {} of ~{} rows", qualified, rows, Math.max(rows, table.estimatedRows()));
                        nextLog = System.nanoTime() + PROGRESS_LOG_INTERVAL_NANOS;
                    }
                }
            }
        }
        log.info("Snapshot of {}: {} rows", qualified, rows);
    }

    /** Hands over the row held back so far, and holds this one back. */
    private void hand(TableSchema table, String qualified, String[] values, List<Integer> order, Transaction tx,
                      long bytes, RecordSink sink) throws InterruptedException {
        if (pending != null) {
            release(false, sink);
        }
        TupleData tuple = TupleData.ofText(values);
        Struct row = table.row(tuple);
        Struct key = table.keySchema() == null ? null : table.keyOf(row);
        List<String> keyText = new ArrayList<>(order.size());
        order.forEach(i -> keyText.add(values[i]));
        String encodedKey = order.isEmpty() ? null : KeyText.encode(keyText);
        pending = new Pending(new ChangePosition(tx.commitLsn(), 0, 0), qualified, encodedKey,
                offset -> records.snapshotRow(table, tx, key, row, offset.snapshot().done(), offset), bytes + 256);
    }

    private void release(boolean last, RecordSink sink) throws InterruptedException {
        Pending p = pending;
        pending = null;
        // Complete: in exactly-once mode a Kafka transaction may end after any snapshot row.
        SourceOffset offset = new SourceOffset(p.position(), true, 0, new SnapshotProgress(p.table(), p.key(), last));
        sink.accept(p.build().apply(offset), p.bytes());
        handedOver = offset;
    }

    private record TableRead(Relation relation, TableSchema schema, long estimatedRows) { }

    private TableRead describe(Connection c, String schema, String table) throws SQLException {
        List<Relation.Column> columns = new ArrayList<>();
        int oid = 0;
        char identity = 'd';
        long estimate = -1;
        try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    oid = (int) rs.getLong(1);
                    identity = rs.getString(2).charAt(0);
                    estimate = rs.getLong(3);
                    columns.add(new Relation.Column(rs.getString(4), (int) rs.getLong(5), rs.getInt(6), rs.getBoolean(7)));
                }
            }
        }
        if (columns.isEmpty()) {
            throw new ConnectException("Snapshot: table " + schema + "." + table + " has no columns or disappeared");
        }
        int relationId = oid;
        Relation relation = new Relation(relationId, schema, table, identity, columns);
        TableSchema tableSchema = schemas.build(relation, () -> catalog.primaryKey(relationId), catalog::type);
        return new TableRead(relation, tableSchema, estimate);
    }

    private static String select(String schema, String table, Relation relation, List<Integer> order, boolean resume) {
        StringJoiner columns = new StringJoiner(", ");
        relation.columns().forEach(column -> columns.add(Sql.quote(column.name())));
        StringBuilder sql = new StringBuilder("SELECT ").append(columns).append(" FROM ").append(Sql.quote(schema))
                .append('.').append(Sql.quote(table));
        if (!order.isEmpty()) {
            StringJoiner keys = new StringJoiner(", ");
            StringJoiner params = new StringJoiner(", ");
            for (int i : order) {
                keys.add(Sql.quote(relation.columns().get(i).name()));
                params.add("?");
            }
            if (resume) {
                sql.append(" WHERE (").append(keys).append(") > (").append(params).append(')');
            }
            sql.append(" ORDER BY ").append(keys);
        }
        return sql.toString();
    }
}
