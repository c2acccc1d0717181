package io.pgcdc.source;

import java.util.HashMap;
import java.util.List;
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
public record SourceOffset(ChangePosition position, boolean complete, long flushLsn, SnapshotProgress snapshot,
                           IncrementalProgress incremental) {

    /**
     * How far an initial snapshot got. Tables are started in name order (several at once with
     * snapshot.max.threads), each read in key order.
     *
     * @param frontier the last table started; those before it are done unless in flight
     * @param inFlight tables started but not all handed over: the key of the last row handed over,
     *                 {@link KeyText}-encoded, or "" for none yet (and for a table without a key)
     * @param done     whether this was the snapshot's last row
     */
    public record SnapshotProgress(String frontier, Map<String, String> inFlight, boolean done) {
        public SnapshotProgress {
            inFlight = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(inFlight));
        }
    }

    /**
     * A snapshot read in chunks while streaming (signalled, or what an initial snapshot had left when it
     * resumed): it outlives any record, so every offset carries it until it is done.
     *
     * @param tables    the tables still to read, the one being read first, as schema.table
     * @param lastKey   the last key of the first table read so far, {@link KeyText}-encoded; null before its first chunk
     * @param startKeys for tables after the first that an initial snapshot had started: the key to continue after
     */
    public record IncrementalProgress(List<String> tables, String lastKey, Map<String, String> startKeys) {
        public IncrementalProgress {
            tables = List.copyOf(tables);
            startKeys = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(startKeys));
        }

        public IncrementalProgress(List<String> tables, String lastKey) {
            this(tables, lastKey, Map.of());
        }
    }

    /** A streamed record's offset. */
    public SourceOffset(ChangePosition position, boolean complete, long flushLsn) {
        this(position, complete, flushLsn, null, null);
    }

    /** An initial snapshot row's offset. */
    public SourceOffset(ChangePosition position, boolean complete, long flushLsn, SnapshotProgress snapshot) {
        this(position, complete, flushLsn, snapshot, null);
    }

    /** The same position, carrying {@code progress}. */
    SourceOffset with(IncrementalProgress progress) {
        return new SourceOffset(position, complete, flushLsn, snapshot, progress);
    }

    static final String LSN_COMMIT = "lsn_commit";
    static final String CHANGE = "change";
    static final String PART = "part";
    static final String COMPLETE = "complete";
    static final String LSN_FLUSH = "lsn_flush";
    static final String SNAPSHOT_TABLE = "snapshot_table";
    static final String SNAPSHOT_KEYS = "snapshot_keys";
    static final String SNAPSHOT_DONE = "snapshot_done";
    static final String INCREMENTAL_TABLES = "incremental_tables";
    static final String INCREMENTAL_KEY = "incremental_key";
    static final String INCREMENTAL_START_KEYS = "incremental_start_keys";

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
        Map<String, Object> map = new HashMap<>(12);
        map.put(LSN_COMMIT, position.commitLsn());
        map.put(CHANGE, position.change());
        map.put(PART, position.part());
        map.put(COMPLETE, complete);
        map.put(LSN_FLUSH, flushLsn);
        if (snapshot != null) {
            map.put(SNAPSHOT_TABLE, snapshot.frontier());
            map.put(SNAPSHOT_KEYS, KeyText.encode(pairs(snapshot.inFlight())));
            map.put(SNAPSHOT_DONE, snapshot.done());
        }
        if (incremental != null) {
            map.put(INCREMENTAL_TABLES, KeyText.encode(incremental.tables()));
            map.put(INCREMENTAL_KEY, incremental.lastKey());
            if (!incremental.startKeys().isEmpty()) {
                map.put(INCREMENTAL_START_KEYS, KeyText.encode(pairs(incremental.startKeys())));
            }
        }
        return map;
    }

    /** Table, key, table, key ...: how a map of keys by table is stored. */
    private static List<String> pairs(Map<String, String> keys) {
        List<String> pairs = new java.util.ArrayList<>(keys.size() * 2);
        keys.forEach((table, key) -> {
            pairs.add(table);
            pairs.add(key);
        });
        return pairs;
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
            SnapshotProgress snapshot = map.get(SNAPSHOT_TABLE) instanceof String frontier
                    ? new SnapshotProgress(frontier, keysByTable((String) map.get(SNAPSHOT_KEYS)),
                    Boolean.TRUE.equals(map.get(SNAPSHOT_DONE)))
                    : null;
            IncrementalProgress incremental = map.get(INCREMENTAL_TABLES) instanceof String tables
                    ? new IncrementalProgress(KeyText.decode(tables), (String) map.get(INCREMENTAL_KEY),
                    map.get(INCREMENTAL_START_KEYS) instanceof String keys ? keysByTable(keys) : Map.of())
                    : null;
            return new SourceOffset(new ChangePosition(number(map, LSN_COMMIT), (int) number(map, CHANGE),
                    (int) number(map, PART)), Boolean.TRUE.equals(map.get(COMPLETE)), number(map, LSN_FLUSH), snapshot,
                    incremental);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Stored source offset " + map + " is not one this connector wrote: "
                    + e.getMessage(), e);
        }
    }

    private static Map<String, String> keysByTable(String encoded) {
        List<String> pairs = KeyText.decode(encoded);
        Map<String, String> keys = new java.util.TreeMap<>();
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            keys.put(pairs.get(i), pairs.get(i + 1));
        }
        return keys;
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
