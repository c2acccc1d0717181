package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** A shaped row must behave as the insertion-ordered map it replaces, wherever the sink reads one. */
class ShapedRowTest {

    private static final ShapedRow.Shape SHAPE = new ShapedRow.Shape(List.of("id", "label", "gone"));

    private static ShapedRow row() {
        return new ShapedRow(SHAPE, new Object[] {7L, "x", null});
    }

    private static Map<String, Object> asLinkedMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", 7L);
        map.put("label", "x");
        map.put("gone", null);
        return map;
    }

    @Test
    void readsAsTheMapOfItsFieldsInShapeOrder() {
        ShapedRow row = row();
        assertEquals(7L, row.get("id"));
        assertNull(row.get("gone"));
        assertTrue(row.containsKey("gone"), "a null value is a value");
        assertFalse(row.containsKey("other"));
        assertNull(row.get("other"));
        assertEquals(3, row.size());
        assertEquals(List.of("id", "label", "gone"), new ArrayList<>(row.keySet()));
        List<String> visited = new ArrayList<>();
        row.forEach((k, v) -> visited.add(k + "=" + v));
        assertEquals(List.of("id=7", "label=x", "gone=null"), visited);
        assertEquals(asLinkedMap(), row);
        assertEquals(row, asLinkedMap());
        assertEquals(asLinkedMap().hashCode(), row.hashCode());
        assertEquals(asLinkedMap(), new LinkedHashMap<>(row));
    }

    @Test
    void isUnmodifiableAndHoldsAValueForEachField() {
        assertThrows(UnsupportedOperationException.class, () -> row().put("id", 8L));
        assertThrows(UnsupportedOperationException.class, () -> row().remove("id"));
        assertThrows(IllegalArgumentException.class, () -> new ShapedRow(SHAPE, new Object[2]));
    }

    @Test
    void slotsOfNamesAreWorkedOutPerShape() {
        assertEquals(List.of(2, -1, 0), java.util.Arrays.stream(SHAPE.slotsOf(new String[] {"gone", "other", "id"}))
                .boxed().toList());
    }
}
