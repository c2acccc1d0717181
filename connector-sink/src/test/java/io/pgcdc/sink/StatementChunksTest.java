package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class StatementChunksTest {

    private static RowChange row(Object doc) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", 1L);
        values.put("doc", doc);
        return new RowChange(new TableRef("public", "t"), RowChange.Op.UPSERT, values, null, null, null, null);
    }

    private static List<Integer> sizes(List<List<RowChange>> chunks) {
        return chunks.stream().map(List::size).toList();
    }

    private static List<RowChange> rows(int count, Object doc) {
        List<RowChange> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(row(doc));
        }
        return rows;
    }

    @Test
    void smallRowsAreSplitByRowCountAlone() {
        assertEquals(List.of(4, 4, 2), sizes(StatementChunks.of(rows(10, "x"), 4, StatementChunks.MAX_CHARS)));
        assertEquals(List.of(), sizes(StatementChunks.of(List.of(), 4, StatementChunks.MAX_CHARS)));
    }

    @Test
    void largeRowsAreSplitByTheirValuesAndARowLargerThanTheBoundGoesAlone() {
        // Each row: "id" (2) + a scalar (16) + "doc" (3) + the document.
        long row = 2 + 16 + 3 + 1000;
        assertEquals(1021, StatementChunks.chars(row(new RawJson("x".repeat(1000)))));
        assertEquals(List.of(3, 3, 1), sizes(StatementChunks.of(rows(7, new RawJson("x".repeat(1000))), 100, 3 * row)));
        assertEquals(List.of(2, 2, 2, 1), sizes(StatementChunks.of(rows(7, new RawJson("x".repeat(1000))), 100, 3 * row - 1)));
        assertEquals(List.of(1, 1), sizes(StatementChunks.of(rows(2, "y".repeat(5000)), 100, 1000)));
    }

    @Test
    void nestedValuesCountWhatTheyHold() {
        assertEquals(2 + 16 + 3 + 2 + (1 + 500) + (1 + 16),
                StatementChunks.chars(row(List.of("z".repeat(500), 7))));
        assertEquals(2 + 16 + 3 + 2 + (2 + 1 + 300), StatementChunks.chars(row(Map.of("k", "w".repeat(300)))));
    }
}
