package io.pgcdc.sink;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.sink.SinkConfig.DeleteMode;
import io.pgcdc.sink.SinkConfig.GuardMode;

/**
 * Writes one {@code put()} batch: every table in one database transaction, one statement per
 * table and column set (the batch as one JSON parameter). A lost connection rolls the whole
 * batch back and retries it; a row PostgreSQL rejects is isolated by splitting its group under
 * savepoints, then reported to the dead letter queue or named in the task's failure. What each
 * committed batch did goes to the task's {@link SinkMetrics}.
 */
final class BatchWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);
    private static final long MAX_BACKOFF_MS = 30_000;
    /**
     * How often the catalog is read again for a table while records bring fields it lacks: a column added to the
     * target is written from then on, without a restart. Records of one shape keep bringing the same fields, so
     * reading it for every batch would cost three catalog queries a batch where a table deliberately lacks some.
     */
    private static final long MISSING_RECHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SinkConfig config;
    private final ErrantRecordReporter reporter;
    private final SinkMetrics metrics;
    private final RecordParser parser;
    private final TargetCatalog catalog = new TargetCatalog();
    /** Null unless auto.create or auto.evolve is on. */
    private final TableDdl ddl;
    /** Both sets are read and added to by the task's thread too, which plans the next batch (see {@link #parse}). */
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    /** A table's field it lacks ("table.field"), with when the catalog was last read to see whether it still does. */
    private final Map<String, Long> knownMissing = new ConcurrentHashMap<>();
    /** The table of deleted keys, or null; created on the first connection, and purged at most every minute. */
    private final TableRef ledger;
    private final long purgeEveryNanos;
    private long lastPurge;
    private boolean ledgerReady;
    private Connection connection;

    /** A record that cannot be written, with the reason. */
    record Rejected(SinkRecord record, Exception reason) { }

    /** A table-level reason (a missing table, a failed DDL) is shared by many records: each reason names its own. */
    private static Rejected rejected(RowChange change, Exception reason) {
        String where = RecordParser.where(change.record());
        String message = String.valueOf(reason.getMessage());
        boolean named = message.contains(where + " ") || message.contains(where + ":") || message.endsWith(where);
        return new Rejected(change.record(), named ? reason
                : new DataException("Record " + where + " cannot be written: " + message, reason));
    }

    /** One try at writing a batch: whether it isolates rejected rows, which it rejected, and what it wrote. */
    private record Attempt(boolean careful, List<Rejected> rejected, WriteCounts counts) { }

    /** One statement's SQL run for some rows, saying what it did to them. */
    private interface Statement {
        WriteCounts run(Connection c, JsonRows.Parameters json, int rows) throws SQLException;
    }

    BatchWriter(SinkConfig config, ErrantRecordReporter reporter, SinkMetrics metrics) {
        this.config = config;
        this.reporter = reporter;
        this.metrics = metrics;
        this.parser = new RecordParser(config.tableNameFormat());
        this.ddl = config.autoCreate() || config.autoEvolve() ? new TableDdl(config, catalog) : null;
        this.ledger = config.deleteLedger();
        this.purgeEveryNanos = TimeUnit.MILLISECONDS.toNanos(Math.min(60_000, config.deleteLedgerRetentionMs()));
        this.lastPurge = System.nanoTime() - purgeEveryNanos;
    }

    /**
     * A put() batch read into changes by table, the records that could not be read, and the plans made for
     * the tables whose description was at hand.
     */
    record Parsed(Map<TableRef, List<RowChange>> byTable, List<Rejected> rejected, Map<TableRef, TablePlan> plans) { }

    /**
     * How a table's changes are written, worked out from its description alone: the rows it rejects, and each
     * statement with its rows split into chunks and, unless the rows are to be isolated, each chunk's parameters.
     */
    record TablePlan(TargetTable table, List<Rejected> rejected, List<Step> steps) { }

    /**
     * One statement's SQL for a group of rows: its chunks, and their parameters (null when not built). An upsert
     * under the ledger of deleted keys has a second statement, {@code unledgered}, for chunks none of whose rows
     * is older than the table's latest delete: the ledger cannot hold a later delete of their keys.
     */
    private record Step(List<String> columns, Statement statement, Statement unledgered, JsonFor json,
                        List<List<RowChange>> chunks, List<JsonRows.Parameters> parameters) { }

    /**
     * Reads a batch and plans the writing of each table whose description the catalog holds. Touches no
     * database, so it runs on the task's thread while the previous batch is written: done by the writing
     * thread, checking the rows and building the statements' JSON left PostgreSQL waiting between batches
     * (0.5 s of the writing thread's 0.72 s of CPU over 500,000 inserted rows, profiled). A plan is used only
     * if the table's description is still the one it was made from when the batch is written.
     */
    Parsed parse(Collection<SinkRecord> records) {
        metrics.received(records.size());
        List<Rejected> rejected = new ArrayList<>();
        Map<TableRef, List<RowChange>> byTable = new LinkedHashMap<>();
        for (SinkRecord record : records) {
            try {
                RowChange change = parser.parse(record);
                if (change != null) {
                    byTable.computeIfAbsent(change.table(), t -> new ArrayList<>()).add(change);
                }
            } catch (DataException e) {
                rejected.add(new Rejected(record, e));
            }
        }
        Map<TableRef, TablePlan> plans = new LinkedHashMap<>();
        if (ddl == null) { // with auto.create or auto.evolve, writing may change the tables first
            byTable.forEach((ref, changes) -> {
                TargetTable table = catalog.cached(ref);
                if (table != null && !bringsNewFields(table, changes, false)) {
                    try {
                        plans.put(ref, plan(table, changes, true));
                    } catch (RuntimeException e) {
                        // unplanned: the writing thread plans it again, and fails as it always did
                    }
                }
            });
        }
        return new Parsed(byTable, rejected, plans);
    }

    /**
     * Writes a parsed batch in one transaction and returns every record it could not write, to be
     * {@link #report reported} by the task's thread.
     */
    List<Rejected> write(Parsed batch) {
        List<Rejected> rejected = new ArrayList<>(batch.rejected());
        if (batch.byTable().isEmpty()) {
            return rejected;
        }
        try {
            rejected.addAll(writeWithRetries(batch.byTable(), batch.plans()));
            return rejected;
        } catch (RuntimeException e) {
            metrics.failed(e.getMessage());
            throw e;
        }
    }

    private List<Rejected> writeWithRetries(Map<TableRef, List<RowChange>> byTable, Map<TableRef, TablePlan> plans) {
        long started = System.nanoTime();
        long backoff = config.retryBackoffMs();
        boolean careful = false;
        boolean refreshed = false;
        for (int attempt = 0; ; attempt++) {
            Attempt current = new Attempt(careful, new ArrayList<>(), new WriteCounts());
            try {
                Connection c = connection();
                Map<TableRef, List<RowChange>> writable = ddl == null ? byTable : fitTables(c, byTable, current);
                for (Map.Entry<TableRef, List<RowChange>> entry : writable.entrySet()) {
                    writeTable(c, entry.getKey(), entry.getValue(), plans.get(entry.getKey()), current);
                }
                if (!current.rejected().isEmpty() && reporter == null) {
                    c.rollback();
                    throw failure(current.rejected().get(0));
                }
                purgeLedgerWhenDue(c);
                c.commit();
                metrics.committed(current.counts(), System.nanoTime() - started);
                return current.rejected();
            } catch (SQLException e) {
                rollbackQuietly();
                if (SqlErrors.isTableChange(e) && !refreshed) {
                    catalog.forgetAll(); // a target table changed under us: read the catalog again
                    refreshed = true;
                    attempt--;
                    continue;
                }
                if (SqlErrors.isRowError(e) && !careful) {
                    if (!refreshed && tablesChanged(byTable.keySet())) {
                        // A column's type changed under us (say int to bigint for larger values): not the rows' fault.
                        catalog.forgetAll();
                        refreshed = true;
                        attempt--;
                        continue;
                    }
                    careful = true; // redo the batch, isolating the rows PostgreSQL rejects
                    attempt--;
                    continue;
                }
                if (!SqlErrors.isTransient(e) || attempt >= config.maxRetries()) {
                    throw new ConnectException("Writing a batch of " + count(byTable) + " rows to "
                            + byTable.keySet() + " failed" + (attempt > 0 ? " after " + attempt + " retries" : "")
                            + ": " + e.getMessage(), e);
                }
                log.warn("Writing to {} failed ({}); retry {} of {} in {} ms", byTable.keySet(), e.getMessage(),
                        attempt + 1, config.maxRetries(), backoff);
                metrics.retried();
                closeQuietly();
                sleep(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
            }
        }
    }

    /** Whether the catalog describes any of the tables otherwise than it did when their statements were built. */
    private boolean tablesChanged(Collection<TableRef> refs) {
        try {
            Connection c = connection();
            for (TableRef ref : refs) {
                TargetTable cached = catalog.cached(ref);
                if (cached != null && !cached.equals(TargetCatalog.describe(c, ref))) {
                    return true;
                }
            }
            c.rollback();
            return false;
        } catch (SQLException e) {
            rollbackQuietly();
            return false; // the careful retry meets the same trouble and handles it as it comes
        }
    }

    /** Creates and alters tables first, each DDL committed on its own, so that the data transaction sees them. */
    private Map<TableRef, List<RowChange>> fitTables(Connection c, Map<TableRef, List<RowChange>> byTable, Attempt attempt)
            throws SQLException {
        Map<TableRef, List<RowChange>> writable = new LinkedHashMap<>();
        for (Map.Entry<TableRef, List<RowChange>> entry : byTable.entrySet()) {
            try {
                List<RowChange> fitting = ddl.fit(c, entry.getKey(), entry.getValue(),
                        (change, reason) -> attempt.rejected().add(rejected(change, reason)));
                if (!fitting.isEmpty()) {
                    writable.put(entry.getKey(), fitting);
                }
            } catch (DataException e) {
                entry.getValue().forEach(change -> attempt.rejected().add(rejected(change, e)));
            }
        }
        return writable;
    }

    private void writeTable(Connection c, TableRef ref, List<RowChange> changes, TablePlan planned, Attempt attempt)
            throws SQLException {
        TargetTable table;
        try {
            TargetTable cached = catalog.table(c, ref);
            // A field the cached description lacks: perhaps the column was added since the table was read.
            table = bringsNewFields(cached, changes, true) ? catalog.reload(c, ref) : cached;
        } catch (DataException e) {
            changes.forEach(change -> attempt.rejected().add(rejected(change, e)));
            return;
        }
        TablePlan plan = planned != null && planned.table() == table && !attempt.careful() ? planned
                : plan(table, changes, !attempt.careful());
        attempt.rejected().addAll(plan.rejected());
        Long latestDelete = null;
        if (plan.steps().stream().anyMatch(step -> step.unledgered() != null)) {
            latestDelete = latestDelete(c, table);
        }
        for (Step step : plan.steps()) {
            run(c, table, step, latestDelete, attempt);
        }
    }

    /**
     * The latest position at which the ledger saw a key of the table deleted, or null, read in the batch's
     * transaction before its upserts: those of rows at or after it skip the ledger. A delete another task commits
     * meanwhile is of a key in another partition, which this batch does not hold (the statement's own look-up
     * has the same window, from its snapshot to its end).
     */
    private Long latestDelete(Connection c, TargetTable table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PgDialect.latestDelete(ledger))) {
            ps.setString(1, table.ref().toString());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long latest = rs.getLong(1);
                return rs.wasNull() ? null : latest;
            }
        }
    }

    /** Whether no row of the chunk is older than the latest delete (a row without a position never meets the ledger). */
    private static boolean noneBefore(List<RowChange> chunk, Long latestDelete) {
        if (latestDelete == null) {
            return true;
        }
        for (RowChange row : chunk) {
            if (row.position() != null && row.position().compareTo(latestDelete) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Plans a table's changes from its description; builds the statements' parameters when {@code withParameters}. */
    private TablePlan plan(TargetTable table, List<RowChange> changes, boolean withParameters) {
        List<Rejected> rejected = new ArrayList<>();
        GuardMode mode = config.guardMode();
        String guard = config.guardColumn();
        if (mode != GuardMode.NONE && !table.columns().containsKey(guard)) {
            DataException e = new DataException("Target table " + table.ref() + " has no guard column \"" + guard
                    + "\" (upsert.guard.column); add it or set upsert.guard.mode=none");
            changes.forEach(change -> rejected.add(rejected(change, e)));
            return new TablePlan(table, rejected, List.of());
        }
        List<RowChange> valid = new ArrayList<>(changes.size());
        RowChange runStart = null;
        FieldPlan fields = null;
        for (RowChange change : changes) {
            if (runStart == null || !sameShape(runStart, change)) {
                runStart = change;
                fields = fields(table, change);
            }
            Exception problem = check(table, change, fields);
            if (problem == null) {
                valid.add(change);
            } else {
                rejected.add(new Rejected(change.record(), problem));
            }
        }
        Guard order = Guard.of(config, table);
        warnOfMissingPosition(table, order);
        String guardForOrder = mode == GuardMode.COLUMN ? guard : null;
        List<RowChange> newest = BatchReducer.newestPerKey(valid, table.keyColumns(), guardForOrder);
        List<RowChange> deletes = new ArrayList<>();
        List<RowChange> toUpsert = new ArrayList<>();
        for (RowChange change : newest) {
            (change.op() == RowChange.Op.DELETE ? deletes : toUpsert).add(change);
        }
        if (config.deleteMode() == DeleteMode.IGNORE) {
            deletes.clear();
        } else if (config.deleteMode() == DeleteMode.SOFT && !deletes.isEmpty()) {
            // A soft-deleted row stays, flagged: write its newest version first, even when a delete followed it.
            toUpsert = BatchReducer.newestPerKey(valid.stream().filter(ch -> ch.op() == RowChange.Op.UPSERT).toList(),
                    table.keyColumns(), guardForOrder);
        }
        Map<List<String>, List<RowChange>> upserts = new LinkedHashMap<>();
        runStart = null;
        List<RowChange> sameColumns = null;
        for (RowChange change : toUpsert) {
            if (runStart == null || !sameShape(runStart, change)) {
                runStart = change;
                sameColumns = upserts.computeIfAbsent(columnsOf(table, change, order.writtenPosition()),
                        k -> new ArrayList<>());
            }
            sameColumns.add(change);
        }
        String soft = config.deleteMode() == DeleteMode.SOFT ? config.softDeleteColumn() : null;
        List<Step> steps = new ArrayList<>();
        // Rows move to their new keys first, so that the creates update them. Only where deletes remove rows:
        // otherwise the old key's row stays, and the create's unchanged values are unknown.
        List<RowChange> moves = config.deleteMode() == DeleteMode.DELETE ? KeyMoves.of(table, valid) : List.of();
        if (!moves.isEmpty()) {
            steps.add(step(table.keyColumns(), move(PgDialect.move(table, order)), null,
                    KeyMoves.chunks(moves, table.keyColumns(), config.batchMaxRows()),
                    rows -> JsonRows.moves(table, rows), withParameters));
        }
        for (Map.Entry<List<String>, List<RowChange>> group : upserts.entrySet()) {
            List<String> columns = group.getKey();
            List<String> documents = PgDialect.documents(table, columns);
            Statement upsert = upsert(PgDialect.upsert(table, columns, order, ledger), documents);
            Statement unledgered = ledger == null || order.writtenPosition() == null ? null
                    : upsert(PgDialect.upsert(table, columns, order), documents);
            steps.add(step(columns, upsert, unledgered, chunks(group.getValue()),
                    rows -> JsonRows.upserts(table, rows, columns, order.writtenPosition(), soft), withParameters));
        }
        if (!deletes.isEmpty()) {
            List<String> keyDocuments = PgDialect.documents(table, table.keyColumns());
            Statement delete = delete(soft == null ? PgDialect.delete(table, order)
                    : PgDialect.softDelete(table, soft, order), keyDocuments);
            if (soft == null && ledger != null && order.writtenPosition() != null) {
                delete = remembered(delete, PgDialect.recordDeletes(table, ledger), keyDocuments);
            }
            steps.add(step(table.keyColumns(), delete, null, chunks(deletes), rows -> JsonRows.deletes(table, rows), withParameters));
        }
        return new TablePlan(table, rejected, steps);
    }

    private List<List<RowChange>> chunks(List<RowChange> rows) {
        return StatementChunks.of(rows, config.batchMaxRows(), StatementChunks.MAX_CHARS);
    }

    private static Step step(List<String> columns, Statement statement, Statement unledgered, List<List<RowChange>> chunks,
                             JsonFor json, boolean withParameters) {
        List<JsonRows.Parameters> parameters = null;
        if (withParameters) {
            parameters = new ArrayList<>(chunks.size());
            for (List<RowChange> chunk : chunks) {
                parameters.add(json.rows(chunk));
            }
        }
        return new Step(columns, statement, unledgered, json, chunks, parameters);
    }

    /**
     * Whether two changes have the same op and the same fields. The changes parsed from one schema do,
     * and a batch is mostly long runs of them: what depends only on the fields (which are written,
     * which the table lacks, the statement's columns) is worked out once per run.
     */
    private static boolean sameShape(RowChange a, RowChange b) {
        if (a.op() != b.op() || a.columns().size() != b.columns().size()) {
            return false;
        }
        if (a.shape() != null && a.shape() == b.shape()) {
            return true; // walking two maps per change took a third of the writer thread's time
        }
        Iterator<String> other = b.columns().keySet().iterator();
        for (String field : a.columns().keySet()) {
            if (!field.equals(other.next())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a change has a field the table lacks that no earlier batch had, or that the catalog was last read
     * for over {@link #MISSING_RECHECK_NANOS} ago: worth reading the catalog again, since the column may have been
     * added since. When {@code remember}, the writing thread is about to read it: the time is noted.
     */
    private boolean bringsNewFields(TargetTable table, List<RowChange> changes, boolean remember) {
        long now = System.nanoTime();
        boolean fresh = false;
        RowChange runStart = null;
        for (RowChange change : changes) {
            if (runStart != null && sameShape(runStart, change)) {
                continue;
            }
            runStart = change;
            for (String field : change.columns().keySet()) {
                if (table.columns().containsKey(field) || !config.writes(field)) {
                    continue;
                }
                String known = table.ref() + "." + field;
                Long checked = knownMissing.get(known);
                if (checked == null || now - checked > MISSING_RECHECK_NANOS) {
                    fresh = true;
                    if (remember) {
                        knownMissing.put(known, now);
                    }
                }
            }
        }
        return fresh;
    }

    /** Says once per table what is given up where the table has no column for source positions. */
    private void warnOfMissingPosition(TargetTable table, Guard guard) {
        if (guard.mode() == GuardMode.COLUMN && config.positionColumn() != null && guard.positionColumn() == null
                && warned.add(table.ref() + "." + config.positionColumn())) {
            log.warn("Target table {} has no column \"{}\" ({}): a later change with the same {} as the stored row is "
                    + "taken for a replay, and deletes are guarded by commit time; add it (ALTER TABLE {} ADD COLUMN {} "
                    + "bigint)", table.ref(), config.positionColumn(), SinkConfig.POSITION_COLUMN_CONFIG,
                    guard.column(), table.ref().quoted(), PgDialect.quote(config.positionColumn()));
        }
    }

    /** For a run of changes of one shape: the columns whose values are written, and the fields the table lacks. */
    private record FieldPlan(List<TargetTable.Column> written, List<String> missing) { }

    private FieldPlan fields(TargetTable table, RowChange change) {
        boolean delete = change.op() == RowChange.Op.DELETE;
        List<TargetTable.Column> written = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String field : change.columns().keySet()) {
            TargetTable.Column column = table.columns().get(field);
            if (column == null) {
                if (config.writes(field)) {
                    missing.add(field);
                    if (!config.failOnMissingColumns() && warned.add(table.ref() + "." + field)) {
                        log.warn("Target table {} has no column \"{}\": that field is not written", table.ref(), field);
                    }
                }
                continue;
            }
            // Only what is written must be writable: a delete writes its key alone, an upsert what the lists allow.
            if (table.keyColumns().contains(column.name()) || !delete && config.writes(column.name())) {
                written.add(column);
            }
        }
        return new FieldPlan(written, missing);
    }

    /** Why a change cannot be written to this table, or null. */
    private Exception check(TargetTable table, RowChange change, FieldPlan plan) {
        for (String key : table.keyColumns()) {
            if (change.columns().get(key) == null) {
                return new DataException("Record " + RecordParser.where(change.record()) + " has no value for key column \""
                        + key + "\" of " + table.ref());
            }
        }
        for (TargetTable.Column column : plan.written()) {
            String problem = JsonRows.problem(column, change.columns().get(column.name()));
            if (problem != null) {
                return new DataException("Record " + RecordParser.where(change.record()) + " has a value for column \""
                        + column.name() + "\" of " + table.ref() + " that " + problem);
            }
        }
        if (!plan.missing().isEmpty() && config.failOnMissingColumns()) {
            return new DataException("Record " + RecordParser.where(change.record()) + " has field \"" + plan.missing().get(0)
                    + "\" but " + table.ref() + " has no such column (fields.missing.mode=fail)");
        }
        return null;
    }

    /** The target columns a change writes: its fields that the table has and the lists allow, plus the sink's own. */
    private List<String> columnsOf(TargetTable table, RowChange change, String position) {
        Set<String> columns = new TreeSet<>();
        for (String field : change.columns().keySet()) {
            if (table.columns().containsKey(field) && (config.writes(field) || table.keyColumns().contains(field))) {
                columns.add(field);
            }
        }
        if (position != null) {
            columns.add(position);
        }
        if (config.deleteMode() == DeleteMode.SOFT && table.columns().containsKey(config.softDeleteColumn())) {
            columns.add(config.softDeleteColumn()); // an upserted row is alive again
        }
        return new ArrayList<>(columns);
    }

    private interface JsonFor {
        JsonRows.Parameters rows(List<RowChange> rows);
    }

    private void run(Connection c, TargetTable table, Step step, Long latestDelete, Attempt attempt)
            throws SQLException {
        for (int i = 0; i < step.chunks().size(); i++) {
            List<RowChange> chunk = step.chunks().get(i);
            Statement statement = step.unledgered() != null && noneBefore(chunk, latestDelete) ? step.unledgered()
                    : step.statement();
            if (attempt.careful()) {
                isolate(c, table, step.columns(), statement, chunk, step.json(), attempt);
            } else {
                attempt.counts().add(statement.run(c, step.parameters().get(i), chunk.size()));
            }
        }
    }

    /** An upsert runs as a query returning (rows inserted, rows written); the rest the guard refused. */
    private static Statement upsert(String sql, List<String> documents) {
        return (c, json, rows) -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                json.bind(ps, documents);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return WriteCounts.upsert(rows, rs.getLong(1), rs.getLong(2));
                }
            }
        };
    }

    /** Moves rows to new keys; counted as nothing written, as the changes that asked for them are counted. */
    private static Statement move(String sql) {
        return (c, json, rows) -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                json.bind(ps, List.of());
                ps.executeUpdate();
                return new WriteCounts();
            }
        };
    }

    /** The delete, then the same rows' keys and positions into the ledger of deleted keys. */
    private static Statement remembered(Statement delete, String sql, List<String> documents) {
        return (c, json, rows) -> {
            WriteCounts done = delete.run(c, json, rows);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                json.bind(ps, documents);
                ps.executeUpdate();
            }
            return done;
        };
    }

    /** Forgets the ledger's keys older than its retention, in the batch's transaction, at most once a minute. */
    private void purgeLedgerWhenDue(Connection c) throws SQLException {
        long now = System.nanoTime();
        if (ledger == null || now - lastPurge < purgeEveryNanos) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(PgDialect.purgeLedger(ledger))) {
            ps.setDouble(1, config.deleteLedgerRetentionMs() / 1000.0);
            ps.executeUpdate();
        }
        lastPurge = now;
    }

    private static Statement delete(String sql, List<String> documents) {
        return (c, json, rows) -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                json.bind(ps, documents);
                return WriteCounts.delete(rows, ps.executeUpdate());
            }
        };
    }

    /**
     * Runs the statement under savepoints, bisecting the rows PostgreSQL rejects until the culprits
     * are alone. Only what a released savepoint kept is counted.
     */
    private void isolate(Connection c, TargetTable table, List<String> columns, Statement statement, List<RowChange> rows,
                         JsonFor json, Attempt attempt) throws SQLException {
        Bisection.run(rows, some -> {
            Savepoint savepoint = c.setSavepoint();
            try {
                WriteCounts done = statement.run(c, json.rows(some), some.size());
                c.releaseSavepoint(savepoint);
                attempt.counts().add(done);
                return null;
            } catch (SQLException e) {
                if (!SqlErrors.isRowError(e)) {
                    throw e;
                }
                c.rollback(savepoint);
                return e;
            }
        }, (row, e) -> attempt.rejected().add(new Rejected(row.record(),
                rowError(table, row, e, column(c, table, columns, json.rows(List.of(row)), e)))));
    }

    /**
     * The column a rejected row's value does not fit: PostgreSQL names it for constraint violations,
     * not for a value that fails to convert from the JSON parameter, so then each column is tried alone.
     */
    private static String column(Connection c, TargetTable table, List<String> columns, JsonRows.Parameters rowJson,
                                 SQLException e)
            throws SQLException {
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null
                && p.getServerErrorMessage().getColumn() != null) {
            return p.getServerErrorMessage().getColumn();
        }
        return SqlErrors.isDataException(e) ? ColumnProbe.culprit(c, table, columns, rowJson) : null;
    }

    private static DataException rowError(TargetTable table, RowChange row, SQLException e, String column) {
        String type = column == null || table.columns().get(column) == null ? ""
                : " (" + table.columns().get(column).sqlType() + ")";
        return new DataException("PostgreSQL rejected the row for table " + table.ref()
                + (column == null ? "" : ", column \"" + column + "\"" + type) + ", from record "
                + RecordParser.where(row.record()) + ": " + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")", e);
    }

    /** Sends rejected records to the dead letter queue, or fails naming the first when there is none. */
    void report(List<Rejected> rejected) {
        if (rejected.isEmpty()) {
            return;
        }
        if (reporter == null) {
            ConnectException failure = failure(rejected.get(0));
            metrics.failed(failure.getMessage());
            throw failure;
        }
        List<Future<Void>> sends = new ArrayList<>(rejected.size());
        for (Rejected r : rejected) {
            String message = "Record " + RecordParser.where(r.record()) + " sent to the dead letter queue: "
                    + r.reason().getMessage();
            log.warn(message);
            sends.add(reporter.report(r.record(), r.reason()));
            metrics.sentToDlq(message);
        }
        // Connect waits for the reporter's sends before it asks preCommit() for offsets, not after: records
        // reported from preCommit() must be in the dead letter queue before their offsets can be committed.
        for (int i = 0; i < sends.size(); i++) {
            try {
                sends.get(i).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectException("Interrupted while the dead letter queue took the rejected records", e);
            } catch (ExecutionException e) {
                throw new ConnectException("The dead letter queue did not take record "
                        + RecordParser.where(rejected.get(i).record()) + ": " + e.getCause(), e.getCause());
            }
        }
    }

    private static ConnectException failure(Rejected first) {
        // Every reason names its record, topic-partition@offset.
        return new ConnectException(first.reason().getMessage() + " (errors.tolerance=all with "
                + "errors.deadletterqueue.topic.name routes such records to a dead letter queue instead)", first.reason());
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = DriverManager.getConnection(config.connectionUrl(), config.connectionProperties());
            try (PreparedStatement keep = connection.prepareStatement(PgDialect.KEEP_STATEMENT_MEMORY)) {
                keep.execute();
            }
            if (ledger != null && !ledgerReady) {
                createLedger(connection);
                ledgerReady = true;
            }
            connection.setAutoCommit(false);
        }
        return connection;
    }

    /** Creates the ledger of deleted keys unless it exists; a lack of privilege fails the task, naming the way out. */
    private void createLedger(Connection c) throws SQLException {
        // Looked for first: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table is there.
        try (PreparedStatement exists = c.prepareStatement("SELECT pg_catalog.to_regclass(?) IS NOT NULL")) {
            exists.setString(1, ledger.quoted());
            try (ResultSet rs = exists.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return;
                }
            }
        }
        try (java.sql.Statement s = c.createStatement()) {
            for (String sql : PgDialect.createLedger(ledger)) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            if (SqlErrors.isTransient(e)) {
                throw e;
            }
            if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) { // another task made it meanwhile
                throw new ConnectException("Cannot create the table of deleted keys " + ledger + " ("
                        + SinkConfig.DELETE_LEDGER_TABLE_CONFIG + "): " + e.getMessage() + "; create it as "
                        + String.join("; ", PgDialect.createLedger(ledger)) + ", or set "
                        + SinkConfig.DELETE_LEDGER_TABLE_CONFIG + " empty", e);
            }
        }
    }

    private static int count(Map<TableRef, List<RowChange>> byTable) {
        return byTable.values().stream().mapToInt(List::size).sum();
    }

    private void rollbackQuietly() {
        try {
            if (connection != null && !connection.isClosed()) {
                connection.rollback();
            }
        } catch (SQLException ignored) {
            closeQuietly();
        }
    }

    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // the connection is already broken
        }
        connection = null;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while waiting to retry", e);
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
