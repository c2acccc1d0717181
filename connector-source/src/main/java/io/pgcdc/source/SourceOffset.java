package io.pgcdc.source;

import java.util.HashMap;
import java.util.Map;

/**
 * The Connect source offset of one record.
 *
 * @param position where the record stands in the stream (for a snapshot row: where streaming starts)
 * @param complete whether the record closes its transaction: everything of it is emitted
 * @param flushLsn the LSN the slot may be confirmed to once Connect has stored this offset:
 *                 the transaction's end LSN for a closing record, else the newest position
 *                 known to be safe before the record (an earlier transaction's end, or a
 *                 position the server reported between transactions)
 */
public record SourceOffset(ChangePosition position, boolean complete, long flushLsn, SnapshotProgress snapshot) {

    /**
     * How far a snapshot got: tables are read in name order, each in key order.
     *
     * @param table   the table the record's row belongs to, as schema.table
     * @param lastKey the row's key columns as text, {@link KeyText}-encoded; null for a table read in no order
     * @param done    whether this was the snapshot's last row
     */
    public record SnapshotProgress(String table, String lastKey, boolean done) { }

    /** A streamed record's offset. */
    public SourceOffset(ChangePosition position, boolean complete, long flushLsn) {
        this(position, complete, flushLsn, null);
    }

    static final String LSN_COMMIT = "lsn_commit";
    static final String CHANGE = "change";
    static final String PART = "part";
    static final String COMPLETE = "complete";
    static final String LSN_FLUSH = "lsn_flush";
    static final String SNAPSHOT_TABLE = "snapshot_table";
    static final String SNAPSHOT_KEY = "snapshot_key";
    static final String SNAPSHOT_DONE = "snapshot_done";

    static final String PARTITION_DATABASE = "database";
    static final String PARTITION_SLOT = "slot";

    /** The source partition: one per database and slot. */
    public static Map<String, String> partition(String database, String slot) {
        // Connect finds offsets by the partition's serialized bytes: the key order must be the same in
        // every JVM, which Map.of (randomly ordered per JVM) does not give.
        Map<String, String> partition = new java.util.LinkedHashMap<>();
        partition.put(PARTITION_DATABASE, database);
        partition.put(PARTITION_SLOT, slot);
        return java.util.Collections.unmodifiableMap(partition);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> map = new HashMap<>(8);
        map.put(LSN_COMMIT, position.commitLsn());
        map.put(CHANGE, position.change());
        map.put(PART, position.part());
        map.put(COMPLETE, complete);
        map.put(LSN_FLUSH, flushLsn);
        if (snapshot != null) {
            map.put(SNAPSHOT_TABLE, snapshot.table());
            map.put(SNAPSHOT_KEY, snapshot.lastKey());
            map.put(SNAPSHOT_DONE, snapshot.done());
        }
        return map;
    }

    /** Whether a record's offset closes its transaction. */
    static boolean closesTransaction(Map<String, ?> offset) {
        return Boolean.TRUE.equals(offset.get(COMPLETE));
    }

    /** Reads a stored offset; null when there is none. */
    public static SourceOffset fromMap(Map<String, ?> map) {
        if (map == null || map.isEmpty()) {
            return null;
        }
        try {
            SnapshotProgress snapshot = map.get(SNAPSHOT_TABLE) instanceof String table
                    ? new SnapshotProgress(table, (String) map.get(SNAPSHOT_KEY), Boolean.TRUE.equals(map.get(SNAPSHOT_DONE)))
                    : null;
            return new SourceOffset(new ChangePosition(number(map, LSN_COMMIT), (int) number(map, CHANGE),
                    (int) number(map, PART)), Boolean.TRUE.equals(map.get(COMPLETE)), number(map, LSN_FLUSH), snapshot);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Stored source offset " + map + " is not one this connector wrote: "
                    + e.getMessage(), e);
        }
    }

    private static long number(Map<String, ?> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof Number)) {
            throw new IllegalArgumentException("'" + key + "' is " + value);
        }
        return ((Number) value).longValue();
    }

    /** Whether a snapshot was under way (not finished) when this offset was stored. */
    public boolean snapshotUnfinished() {
        return snapshot != null && !snapshot.done();
    }

    /** Whether a record at {@code candidate} was already emitted before this offset was stored. */
    public boolean covers(ChangePosition candidate) {
        if (snapshot != null) {
            return false; // a snapshot row: streaming starts after it, nothing of the stream was emitted
        }
        if (complete) {
            return Long.compareUnsigned(candidate.commitLsn(), position.commitLsn()) <= 0;
        }
        return candidate.compareTo(position) <= 0;
    }
}
