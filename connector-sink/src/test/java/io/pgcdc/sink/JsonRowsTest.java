package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class JsonRowsTest {

    private static final TargetTable TABLE = new TargetTable(new TableRef("public", "t"), columns(), List.of("id"), false);

    private static Map<String, TargetTable.Column> columns() {
        Map<String, TargetTable.Column> columns = new LinkedHashMap<>();
        columns.put("id", new TargetTable.Column("id", "bigint", "int8"));
        columns.put("doc", new TargetTable.Column("doc", "jsonb", "jsonb"));
        columns.put("bin", new TargetTable.Column("bin", "bytea", "bytea"));
        columns.put("f", new TargetTable.Column("f", "double precision", "float8"));
        columns.put("n", new TargetTable.Column("n", "numeric", "numeric"));
        columns.put("arr", new TargetTable.Column("arr", "text[]", "_text"));
        columns.put("pos", new TargetTable.Column("pos", "numeric", "numeric"));
        columns.put("took", new TargetTable.Column("took", "interval", "interval"));
        columns.put("took_us", new TargetTable.Column("took_us", "bigint", "int8"));
        return columns;
    }

    private static RowChange row(Map<String, Object> values, Long position) {
        return new RowChange(TABLE.ref(), RowChange.Op.UPSERT, values, null, position, 1_500_000L,
                new SinkRecord("t", 0, null, null, null, null, 0));
    }

    @Test
    void valuesTakeTheFormTheirColumnTypeNeeds() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", 1L);
        values.put("doc", "{\"a\":[1,\"x\"]}");
        values.put("bin", "3q0=");
        values.put("f", Double.NaN);
        values.put("n", new BigDecimal("1.000000000000000000001"));
        values.put("arr", java.util.Arrays.asList("a\"b", null));
        JsonRows.Parameters json = JsonRows.upserts(TABLE, List.of(row(values, 10L)),
                List.of("id", "doc", "bin", "f", "n", "arr", "pos"), "pos", null);
        assertEquals("[{\"id\":1,\"bin\":\"\\\\xdead\",\"f\":\"NaN\","
                + "\"n\":1.000000000000000000001,\"arr\":[\"a\\\"b\",null],\"pos\":10}]", json.rows());
        assertArrayEquals(new String[] {"{\"a\":[1,\"x\"]}"}, json.documents().get("doc"), "documents travel beside the rows");
    }

    @Test
    void documentsKeepSqlNullApartFromJsonNullAndTheirRowOrder() {
        List<RowChange> rows = new ArrayList<>();
        for (Object doc : new Object[] {null, new RawJson("null"), Map.of("k", List.of(1, "two")), "[true]"}) {
            Map<String, Object> values = new LinkedHashMap<>();
            values.put("id", (long) rows.size());
            values.put("doc", doc);
            rows.add(row(values, null));
        }
        JsonRows.Parameters json = JsonRows.upserts(TABLE, rows, List.of("id", "doc"), null, null);
        assertEquals("[{\"id\":0},{\"id\":1},{\"id\":2},{\"id\":3}]", json.rows());
        assertArrayEquals(new String[] {null, "null", "{\"k\":[1,\"two\"]}", "[true]"}, json.documents().get("doc"));
    }

    @Test
    void aMicroDurationIsMicrosecondsToAnIntervalAndTheNumberElsewhere() {
        Object duration = JsonValues.of(SchemaBuilder.int64().name("io.debezium.time.MicroDuration").build(), 3_600_000_001L);
        Map<String, Object> values = Map.of("id", 1L, "took", duration, "took_us", duration);
        assertEquals("[{\"id\":1,\"took\":\"3600000001 microseconds\",\"took_us\":3600000001}]",
                JsonRows.upserts(TABLE, List.of(row(values, null)), List.of("id", "took", "took_us"), null, null).rows());
    }

    @Test
    void rowsOfDifferentShapesInOneStatementEachWriteTheirOwnValues() {
        ShapedRow.Shape wide = new ShapedRow.Shape(List.of("id", "f", "n"));
        ShapedRow.Shape reordered = new ShapedRow.Shape(List.of("n", "id"));
        Map<String, Object> plain = new LinkedHashMap<>();
        plain.put("n", BigDecimal.ONE);
        plain.put("id", 4L);
        List<RowChange> rows = List.of(
                row(new ShapedRow(wide, new Object[] {1L, 0.5, BigDecimal.TEN}), null),
                row(new ShapedRow(reordered, new Object[] {new BigDecimal("2"), 2L}), null),
                row(plain, null),
                row(new ShapedRow(wide, new Object[] {3L, null, BigDecimal.ZERO}), null));
        // "f" doubles as the cleared column: a row without it writes its cleared value (null), one with it its own.
        assertEquals("[{\"f\":0.5,\"id\":1,\"n\":10},{\"f\":null,\"id\":2,\"n\":2},{\"f\":null,\"id\":4,\"n\":1},"
                        + "{\"f\":null,\"id\":3,\"n\":0}]",
                JsonRows.upserts(TABLE, rows, List.of("f", "id", "n"), null, "f").rows());
    }

    @Test
    void deletesCarryKeyCommitTimeAndPosition() {
        RowChange delete = new RowChange(TABLE.ref(), RowChange.Op.DELETE, Map.of("id", 5L), null, 1L, 1_500_000L,
                new SinkRecord("t", 0, null, null, null, null, 0));
        assertEquals("[{\"id\":5,\"__pgcdc_commit_time\":\"1970-01-01T00:00:01.500Z\",\"__pgcdc_position\":1}]",
                JsonRows.deletes(TABLE, List.of(delete)).rows());
    }

    @Test
    void valuesThatCannotBeWrittenFaithfullyAreNamed() {
        TargetTable.Column text = new TargetTable.Column("note", "text", "text");
        TargetTable.Column doc = TABLE.columns().get("doc");
        TargetTable.Column bin = TABLE.columns().get("bin");
        assertNull(JsonRows.problem(text, "plain \uD83D\uDE00 text")); // a surrogate pair is fine
        assertTrue(JsonRows.problem(text, "a\u0000b").contains("NUL character (\\u0000) at index 1"));
        assertTrue(JsonRows.problem(text, "x\uD800y").contains("lone surrogate (\\ud800) at index 1"));
        assertTrue(JsonRows.problem(text, "x\uDC00").contains("lone surrogate"));
        assertTrue(JsonRows.problem(text, List.of(Map.of("k\u0000", 1))).contains("NUL"), "map keys inside arrays");

        assertNull(JsonRows.problem(doc, "{\"a\": [1, \"x\"]}"));
        assertNull(JsonRows.problem(doc, new RawJson("\"just a string\"")));
        assertTrue(JsonRows.problem(doc, "1}, {\"id\": 9999").contains("not valid JSON"), "an injection attempt");
        assertTrue(JsonRows.problem(doc, "1 2").contains("not one JSON value"));
        assertTrue(JsonRows.problem(doc, "").contains("empty"));
        assertTrue(JsonRows.problem(doc, "{\"a\": \"\\u0000\"}").contains("NUL"), "an escaped NUL inside JSON");
        assertTrue(JsonRows.problem(doc, new RawJson("[1,")).contains("not valid JSON"));
        // jsonb keeps numbers as numeric: an exponent can take one past its digits (PostgreSQL: "value overflows
        // numeric format", for the whole parameter, naming no column).
        assertTrue(JsonRows.problem(doc, "{\"a\": 1e1000000}").contains("more than 131072 digits before"));
        assertTrue(JsonRows.problem(doc, List.of(Map.of("a", new RawJson("[1e-20000]")))).contains("more than 16383 digits after"));
        assertTrue(JsonRows.problem(doc, "[0e-99999]").contains("more than 16383 digits after"));
        // Each of these PostgreSQL takes (checked in psql, PostgreSQL 15).
        assertNull(JsonRows.problem(doc, "{\"a\": 1e131071, \"b\": 1.5e-16382, \"c\": 0e1000000, \"d\": 0e-16383}"));
        TargetTable.Column json = new TargetTable.Column("j", "json", "json");
        assertNull(JsonRows.problem(json, "{\"a\": 1e1000000}"), "json keeps the number's text");

        assertNull(JsonRows.problem(bin, "3q0="));
        assertNull(JsonRows.problem(bin, "\\xdead"));
        assertTrue(JsonRows.problem(bin, "not base64!").contains("neither \\x-prefixed hex nor base64"));
        assertNull(JsonRows.problem(text, 42L));
    }
}
