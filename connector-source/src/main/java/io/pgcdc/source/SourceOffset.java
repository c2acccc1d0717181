package io.pgcdc.source;

import java.util.HashMap;
import java.util.Map;

/**
 * The Connect source offset of one record.
 *
 * @param position where the record stands
 * @param complete whether the record closes its transaction: everything of it is emitted
 * @param flushLsn the LSN the slot may be confirmed to once Connect has stored this offset:
 *                 the transaction's end LSN for a closing record, else the newest position
 *                 known to be safe before the record (an earlier transaction's end, or a
 *                 position the server reported between transactions)
 */
public record SourceOffset(ChangePosition position, boolean complete, long flushLsn) {

    static final String LSN_COMMIT = "lsn_commit";
    static final String CHANGE = "change";
    static final String PART = "part";
    static final String COMPLETE = "complete";
    static final String LSN_FLUSH = "lsn_flush";

    static final String PARTITION_DATABASE = "database";
    static final String PARTITION_SLOT = "slot";

    /** The source partition: one per database and slot. */
    public static Map<String, String> partition(String database, String slot) {
        return Map.of(PARTITION_DATABASE, database, PARTITION_SLOT, slot);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> map = new HashMap<>(8);
        map.put(LSN_COMMIT, position.commitLsn());
        map.put(CHANGE, position.change());
        map.put(PART, position.part());
        map.put(COMPLETE, complete);
        map.put(LSN_FLUSH, flushLsn);
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
            return new SourceOffset(new ChangePosition(number(map, LSN_COMMIT), (int) number(map, CHANGE),
                    (int) number(map, PART)), Boolean.TRUE.equals(map.get(COMPLETE)), number(map, LSN_FLUSH));
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

    /** Whether a record at {@code candidate} was already emitted before this offset was stored. */
    public boolean covers(ChangePosition candidate) {
        if (complete) {
            return Long.compareUnsigned(candidate.commitLsn(), position.commitLsn()) <= 0;
        }
        return candidate.compareTo(position) <= 0;
    }
}
