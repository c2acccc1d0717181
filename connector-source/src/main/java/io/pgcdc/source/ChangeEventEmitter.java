package io.pgcdc.source;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.source.ChangeRecordFactory.Transaction;
import io.pgcdc.source.SourceOffset.IncrementalProgress;
import io.pgcdc.source.pgoutput.PgOutputMessage;
import io.pgcdc.source.pgoutput.PgOutputMessage.Begin;
import io.pgcdc.source.pgoutput.PgOutputMessage.Commit;
import io.pgcdc.source.pgoutput.PgOutputMessage.Delete;
import io.pgcdc.source.pgoutput.PgOutputMessage.Insert;
import io.pgcdc.source.pgoutput.PgOutputMessage.LogicalMessage;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.pgoutput.PgOutputMessage.Truncate;
import io.pgcdc.source.pgoutput.PgOutputMessage.Update;
import io.pgcdc.source.pgoutput.TupleData;
import io.pgcdc.source.schema.TableSchema;
import io.pgcdc.source.schema.TableSchemaBuilder;

/**
 * Turns the decoded pgoutput stream into Connect records, transaction by transaction,
 * and gives each record the offset that makes resuming exact.
 *
 * <p>The last record of a transaction is held back until COMMIT arrives, so that it can
 * carry the transaction's end LSN: the only position the slot may be confirmed to. A
 * held-back record is one record, whatever the size of the transaction.
 *
 * <p>Records at or before the resume offset (what Connect stored, or what was already
 * handed over before a reconnect) are skipped: the server re-sends a transaction whose
 * end was not confirmed, and the positions it had are the same.
 */
public final class ChangeEventEmitter {

    private static final Logger log = LoggerFactory.getLogger(ChangeEventEmitter.class);

    /** Where records go; blocks while the queue is full. */
    @FunctionalInterface
    public interface RecordSink {
        void accept(SourceRecord record, long bytes) throws InterruptedException;
    }

    /** A position the slot may be confirmed to once Connect has stored {@code after} (null: nothing stored yet). */
    public record QuietPoint(long lsn, SourceOffset after) { }

    private final SourceConfig config;
    private final boolean transactionMetadata;
    private final boolean tombstones;
    private final boolean emitsInserts;
    private final boolean emitsUpdates;
    private final boolean emitsDeletes;
    private final boolean emitsTruncates;
    private final Catalog catalog;
    private final TableSchemaBuilder schemaBuilder;
    private final ChangeRecordFactory records;
    private final RecordSink sink;
    private final SourceMetrics metrics;
    private final Map<Integer, TableSchema> tables = new HashMap<>();
    private final Map<Integer, Relation> relations = new HashMap<>();
    private final Set<Integer> ignoredTables = new HashSet<>();
    private final IncrementalSnapshot incremental;
    private final List<Signal.ExecuteSnapshot> signalsInTransaction = new ArrayList<>();
    private String watermarkInTransaction;
    /** Values of the row being converted that their columns' types cannot hold; empty between rows. */
    private final List<String> unconvertible = new ArrayList<>();

    private final long quietAfterNanos;
    private long lastCommitNanos = System.nanoTime();
    private SourceOffset resumeAfter;
    private SourceOffset lastEmitted;
    private long safeLsn;
    private volatile QuietPoint quietPoint;

    private Transaction tx;
    private int changeOrdinal;
    private long eventCount;
    private Map<String, Long> eventsPerTable;
    private boolean beginHandled;
    private Pending pending;

    /** A record not handed over yet; {@code op} is the change's operation, null for other records. */
    private record Pending(ChangePosition position, String op, Function<SourceOffset, SourceRecord> build, long bytes) { }

    public ChangeEventEmitter(SourceConfig config, Catalog catalog, TableSchemaBuilder schemaBuilder,
                              ChangeRecordFactory records, SourceOffset resumeAfter, RecordSink sink,
                              SourceMetrics metrics) {
        this.config = config;
        this.transactionMetadata = config.provideTransactionMetadata();
        this.tombstones = config.tombstonesOnDelete();
        this.emitsInserts = config.emits("c");
        this.emitsUpdates = config.emits("u");
        this.emitsDeletes = config.emits("d");
        this.emitsTruncates = config.emits("t");
        this.catalog = catalog;
        this.records = records;
        this.sink = sink;
        this.metrics = metrics;
        this.schemaBuilder = schemaBuilder;
        this.quietAfterNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(config.statusUpdateIntervalMs());
        this.resumeAfter = resumeAfter;
        this.lastEmitted = resumeAfter;
        this.safeLsn = resumeAfter == null ? 0 : resumeAfter.flushLsn();
        this.incremental = new IncrementalSnapshot(resumeAfter == null ? null : resumeAfter.incremental());
        if (incremental.tablesLeft() > 0) {
            log.info("Signalled snapshot resumes: {}", incremental.progress());
            metrics.snapshotStarted(incremental.tablesLeft(), 0);
        }
    }

    /** The signalled snapshot's state; the reader reads its chunks. */
    IncrementalSnapshot incremental() {
        return incremental;
    }

    /** Whether the stream is between transactions: where a chunk may be read. */
    boolean betweenTransactions() {
        return tx == null;
    }

    /** The position to ask the server to start from: the newest one known safe. */
    public long startLsn() {
        return safeLsn;
    }

    /**
     * An initial snapshot that lost the slot's exported snapshot leaves {@code remaining} (tables, each with the key
     * to continue after) to be read in chunks while streaming. Read under a fresh snapshot instead, a row could show
     * a newer version than the changes the stream then replays from the slot's position. Returns the progress
     * every offset carries from now on.
     */
    IncrementalProgress resumeInChunks(Map<String, String> remaining) {
        List<String> added = incremental.resume(remaining);
        if (!added.isEmpty()) {
            log.info("Snapshot continues in chunks while streaming, so that no row is sent older than a change already "
                    + "sent: {} ({} tables queued)", added, incremental.tablesLeft());
            metrics.snapshotStarted(incremental.tablesLeft(), 0);
        }
        return incremental.progress();
    }

    /** A snapshot handed over rows up to {@code last}: the stream's changes all come after them. */
    public void snapshotEmitted(SourceOffset last) {
        resumeAfter = last;
        lastEmitted = last;
    }

    public QuietPoint quietPoint() {
        return quietPoint;
    }

    /**
     * Forgets the transaction in progress after a lost connection: the server will send it
     * again from the start, and everything already handed over is skipped.
     */
    public void reset() {
        tx = null;
        pending = null;
        signalsInTransaction.clear();
        watermarkInTransaction = null;
        incremental.reset();
        resumeAfter = lastEmitted;
        relations.clear();
        tables.clear();
        ignoredTables.clear();
    }

    /**
     * The server reported {@code lsn} with no message in flight. Such a position (the
     * walsender's read position) is safe to confirm between transactions, but it may lie
     * among the changes of a transaction not yet committed; so it is used only after the
     * stream has carried no transaction for {@code quietAfterNanos}, when the slot could not
     * advance otherwise (captured tables idle, others busy).
     */
    public void idle(long lsn, long nowNanos) {
        if (tx == null) {
            metrics.caughtUp();
            if (nowNanos - lastCommitNanos >= quietAfterNanos) {
                quiet(lsn);
            }
        }
    }

    private void quiet(long lsn) {
        if (Long.compareUnsigned(lsn, quietLsn()) > 0 && !requestUnstored()) {
            quietPoint = new QuietPoint(lsn, lastEmitted);
        }
    }

    /**
     * Whether a signal queued a table that no emitted offset carries yet. A signal's transaction emits no record, so
     * only the offsets of later records (the chunks' rows) remember the request: until one does, the slot stays
     * before the signal, and a restart reads the signal again rather than forget it.
     */
    private boolean requestUnstored() {
        IncrementalProgress queued = incremental.progress();
        if (queued == null) {
            return false;
        }
        IncrementalProgress carried = lastEmitted == null ? null : lastEmitted.incremental();
        return carried == null || !carried.tables().containsAll(queued.tables());
    }

    private long quietLsn() {
        QuietPoint q = quietPoint;
        return q == null ? 0 : q.lsn();
    }

    public void accept(PgOutputMessage message, long lsn, long bytes) throws InterruptedException {
        if (message instanceof Begin begin) {
            tx = new Transaction(begin.xid(), begin.finalLsn(), begin.commitTimeMicros() + POSTGRES_EPOCH_MICROS);
            changeOrdinal = 0;
            eventCount = 0;
            eventsPerTable = new LinkedHashMap<>();
            beginHandled = false;
            metrics.begin(begin.xid());
            incremental.began(begin.xid());
        } else if (message instanceof Commit commit) {
            commit(commit);
        } else if (message instanceof Relation relation) {
            relations.put(relation.relationId(), relation);
            tables.remove(relation.relationId());
            ignoredTables.remove(relation.relationId());
        } else if (message instanceof Insert insert) {
            int ordinal = nextOrdinal();
            TableSchema table = table(insert.relationId());
            if (table != null && emitsInserts) {
                emitChange(table, "c", ordinal, 0, null, insert.newTuple(), insert.newTuple(), null, lsn, bytes);
            }
        } else if (message instanceof Update update) {
            update(update, nextOrdinal(), lsn, bytes);
        } else if (message instanceof Delete delete) {
            int ordinal = nextOrdinal();
            TableSchema table = table(delete.relationId());
            if (table != null && emitsDeletes) {
                emitDelete(table, ordinal, 0, delete.oldTuple(), null, lsn, bytes);
            }
        } else if (message instanceof Truncate truncate) {
            truncate(truncate, nextOrdinal(), lsn, bytes);
        } else if (message instanceof LogicalMessage logical && logical.prefix().equals(config.signalPrefix())) {
            signal(logical);
        }
        // Type, Origin and other messages carry nothing to emit: types are resolved by OID through the catalog.
    }

    private int nextOrdinal() {
        if (tx == null) {
            throw new IllegalStateException("pgoutput sent a change outside of a transaction");
        }
        metrics.changeRead(changeOrdinal + 1L);
        return changeOrdinal++;
    }

    private void update(Update update, int ordinal, long lsn, long bytes) throws InterruptedException {
        TableSchema table = table(update.relationId());
        if (table == null || !emitsUpdates) {
            return;
        }
        TupleData old = update.oldTuple();
        // A whole old row (REPLICA IDENTITY FULL) holds the values of large columns the update left alone; a key-only
        // one, sent for an unchanged key stored out of line, holds that key, which the new row lacks.
        TupleData after = old == null ? update.newTuple() : update.oldIsKeyOnly()
                ? update.newTuple().withUnchangedFrom(old, table.keyColumnIndexes()) : update.newTuple().withUnchangedFrom(old);
        if (old != null && table.keySchema() != null && !table.sameKey(old, after)) {
            // The key changed: as Debezium does, a delete of the old key and a create of the new one, so that keyed
            // consumers and compacted topics do not keep the old row. Each names the other's key in a header, under
            // Debezium's names: under the default replica identity the create lacks the large values the update left
            // alone, which a consumer keeps by moving the old key's row to the new key.
            OtherKey newKey = new OtherKey(ChangeRecordFactory.NEW_KEY_HEADER, table.key(after));
            OtherKey oldKey = new OtherKey(ChangeRecordFactory.OLD_KEY_HEADER, table.key(old));
            emitDelete(table, ordinal, 0, old, newKey, lsn, bytes);
            emitChange(table, "c", ordinal, 2, null, after, after, oldKey, lsn, bytes);
            return;
        }
        emitChange(table, "u", ordinal, 0, old, after, after, null, lsn, bytes);
    }

    /** The key on the other side of a key change, and the header that carries it. */
    private record OtherKey(String header, Struct key) { }

    private void emitDelete(TableSchema table, int ordinal, int part, TupleData old, OtherKey newKey, long lsn, long bytes)
            throws InterruptedException {
        emitChange(table, "d", ordinal, part, old, null, old, newKey, lsn, bytes);
        if (tombstones && table.keySchema() != null) {
            Struct key = table.key(old);
            Transaction t = tx;
            emit(new ChangePosition(t.commitLsn(), ordinal, part + 1), null,
                    offset -> records.tombstone(table, t, key, offset), 0);
        }
    }

    private void emitChange(TableSchema table, String op, int ordinal, int part, TupleData before, TupleData after,
                            TupleData keySource, OtherKey otherKey, long lsn, long bytes) throws InterruptedException {
        ChangePosition position = new ChangePosition(tx.commitLsn(), ordinal, part);
        long totalOrder = ++eventCount;
        long tableOrder = transactionMetadata
                ? eventsPerTable.merge(table.schemaName() + "." + table.tableName(), 1L, Long::sum) : 0;
        if (keySource != null && incremental.tracks(table.schemaName(), table.tableName())) {
            incremental.changed(SnapshotTable.keyText(table, keySource::text), tx.xid());
        }
        if (isResumed(position)) {
            return;
        }
        Struct beforeRow = before == null ? null : table.row(before, unconvertible);
        Struct afterRow = after == null ? null : table.row(after, unconvertible);
        Struct key = keySource == null ? null : table.keyOf(keySource == after ? afterRow : beforeRow);
        UnconvertibleValues.report(table, key, unconvertible, metrics);
        List<String> unchanged = after == null ? List.of() : table.unchangedToast(after);
        Transaction t = tx;
        Struct block = transactionMetadata ? records.transactionBlock(t, totalOrder, tableOrder) : null;
        emit(position, op, offset -> {
            SourceRecord record = records.change(table, t, op, key, beforeRow, afterRow, unchanged, lsn, ordinal, block, offset);
            if (otherKey != null) {
                record.headers().add(otherKey.header(), otherKey.key(), table.keySchema());
            }
            return record;
        }, bytes);
    }

    private void truncate(Truncate truncate, int ordinal, long lsn, long bytes) throws InterruptedException {
        if (!emitsTruncates) {
            return;
        }
        int[] ids = truncate.relationIds();
        for (int part = 0; part < ids.length; part++) {
            TableSchema table = table(ids[part]);
            if (table != null && incremental.tracks(table.schemaName(), table.tableName())) {
                incremental.truncated(tx.xid());
            }
            if (table != null) {
                emitChange(table, "t", ordinal, part, null, null, null, null, lsn, bytes);
            }
        }
    }

    private boolean isResumed(ChangePosition position) {
        return resumeAfter != null && resumeAfter.covers(position);
    }

    private void emit(ChangePosition position, String op, Function<SourceOffset, SourceRecord> build, long bytes)
            throws InterruptedException {
        if (isResumed(position)) {
            return;
        }
        if (transactionMetadata && !beginHandled) {
            beginHandled = true;
            Transaction t = tx;
            ChangePosition begin = new ChangePosition(t.commitLsn(), ChangePosition.BEGIN, 0);
            if (!isResumed(begin)) {
                release(new Pending(begin, null, offset -> records.begin(t, offset), 0), false, safeLsn);
            }
        }
        if (pending != null) {
            release(pending, false, safeLsn);
        }
        pending = new Pending(position, op, build, bytes);
    }

    private void commit(Commit commit) throws InterruptedException {
        Transaction t = tx;
        tx = null;
        if (!signalsInTransaction.isEmpty()) {
            // Before the closing record is released, so that its offset carries the request.
            if (!isResumed(new ChangePosition(t.commitLsn(), ChangePosition.END, 0))) {
                signalsInTransaction.forEach(signal -> requestSnapshot(signal, t.commitLsn()));
            }
            signalsInTransaction.clear();
        }
        if (transactionMetadata && eventCount > 0) {
            if (pending != null) {
                release(pending, false, safeLsn);
            }
            long events = eventCount;
            Map<String, Long> perTable = eventsPerTable;
            ChangePosition end = new ChangePosition(t.commitLsn(), ChangePosition.END, 0);
            pending = new Pending(end, null, offset -> records.end(t, commit.endLsn(), events, perTable, offset), 0);
        }
        metrics.committed(changeOrdinal, pending != null, t.commitTimeMicros(), System.currentTimeMillis());
        if (pending != null) {
            release(pending, true, commit.endLsn());
            safeLsn = commit.endLsn();
        } else {
            // Nothing of this transaction is to be emitted (filtered, skipped or already emitted):
            // its end is safe as soon as everything emitted before it is stored.
            quiet(commit.endLsn());
        }
        pending = null;
        lastCommitNanos = System.nanoTime();
        if (watermarkInTransaction != null) {
            String id = watermarkInTransaction;
            watermarkInTransaction = null;
            watermark(id, t.commitLsn());
        }
    }

    private void release(Pending p, boolean complete, long flushLsn) throws InterruptedException {
        long flush = complete ? flushLsn : Math.max(flushLsn, quietLsn());
        SourceOffset offset = new SourceOffset(p.position(), complete, flush, null, incremental.progress());
        sink.accept(p.build().apply(offset), p.bytes());
        lastEmitted = offset;
        if (p.op() != null) {
            metrics.emitted(p.op());
        }
    }

    private void signal(LogicalMessage message) throws InterruptedException {
        Signal signal;
        try {
            signal = Signal.parse(message.content());
        } catch (IllegalArgumentException e) {
            log.error("Ignoring the message with prefix '{}' at LSN {}: {}", message.prefix(),
                    org.postgresql.replication.LogSequenceNumber.valueOf(message.lsn()), e.getMessage());
            return;
        }
        if (signal instanceof Signal.Watermark watermark) {
            if (message.transactional() && tx != null) {
                watermarkInTransaction = watermark.id(); // the chunk's transaction: its rows follow its commit
            }
        } else if (signal instanceof Signal.ExecuteSnapshot request) {
            if (message.transactional() && tx != null) {
                signalsInTransaction.add(request); // takes effect if and when its transaction commits
            } else if (!isResumed(new ChangePosition(message.lsn(), 0, 0))) {
                requestSnapshot(request, message.lsn());
            }
        }
    }

    private void requestSnapshot(Signal.ExecuteSnapshot request, long lsn) {
        List<String> accepted = new ArrayList<>();
        for (String table : request.tables()) {
            int dot = table.indexOf('.');
            if (config.captures(table.substring(0, dot), table.substring(dot + 1))) {
                accepted.add(table);
            } else {
                log.error("Signal at LSN {}: table {} is not captured by this connector (table.include.list / "
                        + "table.exclude.list); not snapshotting it", org.postgresql.replication.LogSequenceNumber.valueOf(lsn),
                        table);
            }
        }
        List<String> added = incremental.request(accepted);
        if (!added.isEmpty()) {
            log.info("Signal at LSN {}: snapshot of {} while streaming ({} tables queued)",
                    org.postgresql.replication.LogSequenceNumber.valueOf(lsn), added, incremental.tablesLeft());
            metrics.snapshotStarted(incremental.tablesLeft(), 0);
        }
    }

    /**
     * The stream reached a chunk's watermark, committed at {@code lsn}: its rows left are emitted
     * here, between transactions.
     */
    private void watermark(String id, long lsn) throws InterruptedException {
        IncrementalSnapshot.Chunk chunk = incremental.watermark(id);
        if (chunk == null) {
            return; // another connector's, or written before a restart
        }
        TableSchema schema = chunk.table().schema();
        Transaction t = new Transaction(0, lsn, System.currentTimeMillis() * 1000);
        ChangePosition position = new ChangePosition(lsn, 0, 0);
        long flush = Math.max(safeLsn, quietLsn());
        int left = chunk.rows().size();
        if (left == 0) {
            incremental.chunkEmitted(chunk);
        }
        for (Map.Entry<String, String[]> entry : chunk.rows().entrySet()) {
            if (--left == 0) {
                incremental.chunkEmitted(chunk);
            }
            SourceOffset offset = new SourceOffset(position, true, flush, null,
                    left == 0 ? incremental.progress() : incremental.progressAt(entry.getKey()));
            Struct row = schema.row(TupleData.ofText(entry.getValue()), unconvertible);
            Struct key = schema.keyOf(row);
            UnconvertibleValues.report(schema, key, unconvertible, metrics);
            long bytes = 256;
            for (String value : entry.getValue()) {
                bytes += value == null ? 0 : value.length();
            }
            sink.accept(records.snapshotRow(schema, t, key, row, "incremental", offset), bytes);
            lastEmitted = offset;
            metrics.snapshotRow();
        }
        if (chunk.last()) {
            log.info("Signalled snapshot of {} done", chunk.table().qualified());
            metrics.snapshotTableDone();
            if (incremental.tablesLeft() == 0) {
                metrics.snapshotFinished();
            }
        }
    }

    private TableSchema table(int relationId) {
        TableSchema table = tables.get(relationId);
        if (table != null || ignoredTables.contains(relationId)) {
            return table;
        }
        Relation relation = relations.get(relationId);
        if (relation == null) {
            throw new ConnectException("pgoutput sent a change for relation " + relationId
                    + " without its Relation message first");
        }
        if (!config.captures(relation.schema(), relation.table())) {
            ignoredTables.add(relationId);
            return null;
        }
        table = schemaBuilder.build(relation, () -> catalog.primaryKey(relationId), catalog::type);
        tables.put(relationId, table);
        return table;
    }

    /** Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
    static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;
}
