package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class BatchReducerTest {

    private static final TableRef T = new TableRef("public", "t");

    private static RowChange change(RowChange.Op op, int id, String updatedAt, Long position, long offset) {
        Map<String, Object> columns = updatedAt == null ? Map.of("id", id) : Map.of("id", id, "updated_at", updatedAt);
        return new RowChange(T, op, columns, null, position, null,
                new SinkRecord("topic", 0, null, null, null, null, offset));
    }

    @Test
    void newestGuardWinsWhateverTheArrivalOrder() {
        RowChange newer = change(RowChange.Op.UPSERT, 1, "2024-01-02T00:00:00Z", 1L, 1);
        RowChange older = change(RowChange.Op.UPSERT, 1, "2024-01-01 00:00:00+00", 2L, 2);
        assertEquals(List.of(newer), BatchReducer.newestPerKey(List.of(newer, older), List.of("id"), "updated_at"));
    }

    @Test
    void equalGuardsFallBackToSourcePositionThenOffset() {
        RowChange first = change(RowChange.Op.UPSERT, 1, "2024-01-01T00:00:00Z", 5L, 9);
        RowChange second = change(RowChange.Op.UPSERT, 1, "2024-01-01T00:00:00Z", 6L, 3);
        assertEquals(List.of(second), BatchReducer.newestPerKey(List.of(first, second), List.of("id"), "updated_at"));
        RowChange a = change(RowChange.Op.UPSERT, 1, null, null, 3);
        RowChange b = change(RowChange.Op.UPSERT, 1, null, null, 4);
        assertEquals(List.of(b), BatchReducer.newestPerKey(List.of(b, a), List.of("id"), null));
    }

    @Test
    void keyWhoseNewestChangeIsADeleteIsDeleted() {
        RowChange insert = change(RowChange.Op.UPSERT, 1, "2024-01-01T00:00:00Z", 1L, 1);
        RowChange delete = change(RowChange.Op.DELETE, 1, null, 2L, 2);
        RowChange other = change(RowChange.Op.UPSERT, 2, "2024-01-01T00:00:00Z", 3L, 3);
        assertEquals(List.of(delete, other),
                BatchReducer.newestPerKey(List.of(insert, delete, other), List.of("id"), "updated_at"));
        RowChange reinsert = change(RowChange.Op.UPSERT, 1, "2024-01-03T00:00:00Z", 4L, 4);
        assertEquals(List.of(reinsert), BatchReducer.newestPerKey(List.of(insert, delete, reinsert), List.of("id"), "updated_at"));
    }

    @Test
    void aDeleteIsOrderedByPositionNotByTheGuardValueItDoesNotReallyCarry() {
        RowChange update = change(RowChange.Op.UPSERT, 1, "2024-01-02T00:00:00Z", 5L, 1);
        // Debezium's delete under REPLICA IDENTITY DEFAULT: the key, and defaults for the rest of before.
        RowChange delete = change(RowChange.Op.DELETE, 1, "1970-01-01T00:00:00Z", 6L, 2);
        assertEquals(List.of(delete), BatchReducer.newestPerKey(List.of(update, delete), List.of("id"), "updated_at"));
        RowChange reinsert = change(RowChange.Op.UPSERT, 1, "2024-01-01T00:00:00Z", 7L, 3);
        assertEquals(List.of(reinsert), BatchReducer.newestPerKey(List.of(update, delete, reinsert), List.of("id"),
                "updated_at"));
    }

    @Test
    void columnsTheNewerChangeDoesNotCarryComeFromTheOlderOne() {
        RowChange insert = new RowChange(T, RowChange.Op.UPSERT, Map.of("id", 1, "body", "long text", "n", 1), null, null,
                null, new SinkRecord("topic", 0, null, null, null, null, 1));
        // The update's shape claims its schema's fields; merged with the insert's, they no longer are.
        Schema schema = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).field("n", Schema.INT32_SCHEMA).build();
        RowChange update = new RowChange(T, RowChange.Op.UPSERT, Map.of("id", 1, "n", 2), schema, null, null,
                new SinkRecord("topic", 0, null, null, null, null, 2), schema);
        RowChange merged = BatchReducer.newestPerKey(List.of(insert, update), List.of("id"), null).get(0);
        assertEquals(Map.of("id", 1, "body", "long text", "n", 2), merged.columns());
        assertEquals(update.record(), merged.record());
        assertNull(merged.shape());
    }
}
