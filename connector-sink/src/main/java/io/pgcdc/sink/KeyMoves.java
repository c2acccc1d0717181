package io.pgcdc.sink;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The moves of stored rows to new keys that a batch's key changes ask for. A source sends an update of a row's key
 * as a delete of the old key and a create of the new one, each naming the other's key in a header (Debezium's
 * {@code __debezium.newkey} and {@code __debezium.oldkey}, which this project's source sets too). Under the default
 * replica identity the create lacks the large values the update left alone (unchanged TOAST): moving the stored
 * row to the new key before the batch's upserts keeps them, as the create then updates the moved row and leaves
 * those columns as stored. Either half asks for the same move, so it is made whichever arrives first: the two
 * halves have different keys and may travel in different partitions.
 */
final class KeyMoves {

    /** Prefix of the new key's fields in a move's row, beside the old key's. */
    static final String NEW_KEY_PREFIX = "__pgcdc_new_";

    private KeyMoves() {
    }

    /**
     * The moves asked for by {@code changes}, each once, in source order: a row whose columns hold the old key, and
     * the new key under {@link #NEW_KEY_PREFIX}, with the asking change's position, commit time and record. None
     * for a table keyed by a document (moves compare keys as the recordset's own values).
     */
    static List<RowChange> of(TargetTable table, List<RowChange> changes) {
        if (!PgDialect.documents(table, table.keyColumns()).isEmpty()) {
            return List.of();
        }
        Map<List<String>, RowChange> moves = new LinkedHashMap<>();
        for (RowChange change : changes) {
            if (change.otherKey() == null) {
                continue;
            }
            boolean delete = change.op() == RowChange.Op.DELETE;
            Map<String, Object> from = delete ? change.columns() : change.otherKey();
            Map<String, Object> to = delete ? change.otherKey() : change.columns();
            Map<String, Object> columns = new LinkedHashMap<>();
            List<String> identity = new ArrayList<>();
            for (String key : table.keyColumns()) {
                columns.put(key, from.get(key));
                columns.put(NEW_KEY_PREFIX + key, to.get(key));
                identity.add(String.valueOf(from.get(key)));
                identity.add(String.valueOf(to.get(key)));
            }
            if (columns.containsValue(null) || keyText(columns, table.keyColumns(), "").equals(
                    keyText(columns, table.keyColumns(), NEW_KEY_PREFIX))) {
                continue; // a key the header does not give whole, or no change of key: nothing to move
            }
            moves.putIfAbsent(identity, new RowChange(change.table(), RowChange.Op.DELETE, columns, null,
                    change.position(), change.commitMicros(), change.record()));
        }
        List<RowChange> ordered = new ArrayList<>(moves.values());
        ordered.sort(Comparator.comparing(RowChange::position, Comparator.nullsFirst(Comparator.naturalOrder())));
        return ordered;
    }

    /**
     * The moves in statements that each touch a key once, at most {@code maxRows} a statement: a statement sees the
     * table as it was before it, so a chain (a to b, then b to c) runs one link per statement, in order.
     */
    static List<List<RowChange>> chunks(List<RowChange> moves, List<String> keyColumns, int maxRows) {
        List<List<RowChange>> chunks = new ArrayList<>();
        List<RowChange> chunk = new ArrayList<>();
        Set<String> touched = new HashSet<>();
        for (RowChange move : moves) {
            String from = keyText(move.columns(), keyColumns, "");
            String to = keyText(move.columns(), keyColumns, NEW_KEY_PREFIX);
            if (chunk.size() >= maxRows || touched.contains(from) || touched.contains(to)) {
                chunks.add(chunk);
                chunk = new ArrayList<>();
                touched.clear();
            }
            chunk.add(move);
            touched.add(from);
            touched.add(to);
        }
        if (!chunk.isEmpty()) {
            chunks.add(chunk);
        }
        return chunks;
    }

    private static String keyText(Map<String, Object> columns, List<String> keyColumns, String prefix) {
        List<String> values = new ArrayList<>(keyColumns.size());
        for (String key : keyColumns) {
            values.add(String.valueOf(columns.get(prefix + key)));
        }
        return values.toString();
    }
}
