package io.pgcdc.sink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps, per key, only the newest change of a batch: by guard value (but for deletes), then by
 * source position, then by Kafka offset, then by arrival. PostgreSQL refuses an ON CONFLICT
 * statement that touches one row twice, and only the newest change matters anyway: a key
 * whose newest change is a delete is deleted.
 */
final class BatchReducer {

    private BatchReducer() {
    }

    /**
     * @param keyColumns the target's conflict columns
     * @param guardColumn the column compared first, or null
     */
    static List<RowChange> newestPerKey(List<RowChange> changes, List<String> keyColumns, String guardColumn) {
        Map<Object, RowChange> newest = new LinkedHashMap<>();
        for (RowChange change : changes) {
            Object key;
            if (keyColumns.size() == 1) {
                key = keyPart(change.columns().get(keyColumns.get(0)));
            } else {
                List<Object> parts = new ArrayList<>(keyColumns.size());
                for (String column : keyColumns) {
                    parts.add(keyPart(change.columns().get(column)));
                }
                key = parts;
            }
            newest.merge(key, change, (a, b) -> isNewer(b, a, guardColumn) ? carryOver(a, b) : a);
        }
        return new ArrayList<>(newest.values());
    }

    /**
     * A key value as compared: integers of any width as one kind (a column's values may come as Integer
     * from one record and as Long from another), other values by their text.
     */
    private static Object keyPart(Object value) {
        if (value == null || value instanceof String || value instanceof Long) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        return value.toString();
    }

    /**
     * The newer upsert {@code b} with the columns it does not carry (unchanged TOAST values)
     * taken from the older upsert {@code a} of the same batch: they are unknown in {@code b},
     * and {@code a} knew them.
     */
    private static RowChange carryOver(RowChange a, RowChange b) {
        if (a.op() != RowChange.Op.UPSERT || b.op() != RowChange.Op.UPSERT
                || b.columns().keySet().containsAll(a.columns().keySet())) {
            return b;
        }
        Map<String, Object> columns = new LinkedHashMap<>(a.columns());
        columns.putAll(b.columns());
        return new RowChange(b.table(), b.op(), columns, b.schema(), b.position(), b.commitMicros(), b.record());
    }

    /**
     * Whether {@code b}, which arrived after {@code a}, is the newer change of the same row. A delete is never
     * ranked by its guard value: under the default replica identity it carries only the key, and Debezium
     * fills the rest of {@code before} with defaults (an updated_at of 1970).
     */
    static boolean isNewer(RowChange b, RowChange a, String guardColumn) {
        boolean delete = a.op() == RowChange.Op.DELETE || b.op() == RowChange.Op.DELETE;
        if (guardColumn != null && !delete) {
            int byGuard = GuardValue.compare(GuardValue.of(a.columns().get(guardColumn)),
                    GuardValue.of(b.columns().get(guardColumn)));
            if (byGuard != 0) {
                return byGuard < 0;
            }
        }
        if (a.position() != null && b.position() != null) {
            int byPosition = a.position().compareTo(b.position());
            if (byPosition != 0) {
                return byPosition < 0;
            }
        }
        if (a.record().kafkaPartition() != null && a.record().kafkaPartition().equals(b.record().kafkaPartition())
                && a.record().topic().equals(b.record().topic())) {
            return a.record().kafkaOffset() <= b.record().kafkaOffset();
        }
        return true;
    }
}
