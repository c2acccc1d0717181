package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RecordParserTest {

    private final RecordParser parser = new RecordParser("${source.schema}.${source.table}");

    private static final Schema ROW = SchemaBuilder.struct().optional()
            .field("id", Schema.INT64_SCHEMA)
            .field("total", Decimal.builder(2).optional().build())
            .field("body", Schema.OPTIONAL_STRING_SCHEMA)
            .field("ts", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
            .field("doc", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
            .build();
    static final Schema SOURCE = SchemaBuilder.struct()
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("ts_us", Schema.INT64_SCHEMA).field("lsn_commit", Schema.INT64_SCHEMA)
            .field("change_index", Schema.INT32_SCHEMA).field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
            .field("unchanged_toast", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build()).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct()
            .field("before", ROW).field("after", ROW).field("source", SOURCE).field("op", Schema.STRING_SCHEMA).build();

    private static SinkRecord record(String topic, Schema schema, Object value) {
        return new SinkRecord(topic, 0, null, null, schema, value, 7);
    }

    @Test
    void ourEnvelopeWithSchemas() {
        Struct after = new Struct(ROW).put("id", 1L).put("total", new BigDecimal("9.50")).put("ts", 1_000_001L)
                .put("doc", "{\"a\":1}");
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "orders").put("ts_us", 5L)
                .put("lsn_commit", 100L).put("change_index", 3).put("lsn", 90L).put("unchanged_toast", List.of("body"));
        RowChange change = parser.parse(record("cdc.public.orders", ENVELOPE,
                new Struct(ENVELOPE).put("after", after).put("source", source).put("op", "u")));
        assertEquals(new TableRef("public", "orders"), change.table());
        assertEquals(RowChange.Op.UPSERT, change.op());
        assertEquals(new BigDecimal("9.50"), change.columns().get("total"));
        assertEquals("1970-01-01T00:00:01.000001", change.columns().get("ts"));
        assertEquals(new RawJson("{\"a\":1}"), change.columns().get("doc"));
        assertFalse(change.columns().containsKey("body"), "unchanged TOAST is left out, so it is kept as stored");
        assertEquals(90L, change.position(), "the change's own WAL position");
        assertEquals(5L, change.commitMicros());
        assertEquals(ROW, change.schema(), "the row's schema, what auto.create reads");
        assertNull(change.shape(), "a column left out: its fields are not all of its schema's");
        source.put("unchanged_toast", List.of());
        RowChange whole = parser.parse(record("cdc.public.orders", ENVELOPE,
                new Struct(ENVELOPE).put("after", after).put("source", source).put("op", "u")));
        assertSame(ROW, whole.shape(), "every field of its row schema");
    }

    @Test
    void aSnapshotRowHasNoPositionAndAnLsnPast2To63IsRefused() {
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "orders").put("ts_us", 5L)
                .put("lsn_commit", 100L).put("change_index", 0).put("lsn", 100L);
        RowChange snapshot = parser.parse(record("cdc.public.orders", ENVELOPE,
                new Struct(ENVELOPE).put("after", new Struct(ROW).put("id", 1L)).put("source", source).put("op", "r")));
        assertNull(snapshot.position(), "transactions in flight when a snapshot row was read wrote their changes before it");
        source.put("lsn", -2L); // an unsigned LSN of 2^64 - 2
        DataException past = assertThrows(DataException.class, () -> parser.parse(record("cdc.public.orders", ENVELOPE,
                new Struct(ENVELOPE).put("after", new Struct(ROW).put("id", 1L)).put("source", source).put("op", "c"))));
        assertTrue(past.getMessage().contains("cdc.public.orders-0@7 has source.lsn 18446744073709551614"), past.getMessage());
    }

    @Test
    void deleteTakesItsIdentityFromKeyAndBefore() {
        Schema keySchema = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
        Struct before = new Struct(ROW).put("id", 4L);
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "orders").put("ts_us", 5L)
                .put("lsn_commit", 100L).put("change_index", 0);
        SinkRecord record = new SinkRecord("cdc.public.orders", 0, keySchema, new Struct(keySchema).put("id", 4L), ENVELOPE,
                new Struct(ENVELOPE).put("before", before).put("source", source).put("op", "d"), 8);
        RowChange change = parser.parse(record);
        assertEquals(RowChange.Op.DELETE, change.op());
        assertEquals(4L, change.columns().get("id"));
        assertEquals(ROW, change.schema());
        assertNull(change.shape(), "a delete's identity is not its row");
    }

    /** The two halves of a key change name each other's key, as the header converter gave it: Struct, map or JSON. */
    @Test
    void aKeyChangesHalvesReadTheOtherKeyFromTheirHeaders() {
        Schema keySchema = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "orders").put("ts_us", 5L)
                .put("lsn_commit", 100L).put("change_index", 0);
        SinkRecord delete = new SinkRecord("cdc.public.orders", 0, keySchema, new Struct(keySchema).put("id", 4L), ENVELOPE,
                new Struct(ENVELOPE).put("before", new Struct(ROW).put("id", 4L)).put("source", source).put("op", "d"), 8);
        delete.headers().add("__debezium.newkey", new Struct(keySchema).put("id", 40L), keySchema);
        assertEquals(Map.of("id", 40L), parser.parse(delete).otherKey());

        SinkRecord create = record("cdc.public.orders", ENVELOPE,
                new Struct(ENVELOPE).put("after", new Struct(ROW).put("id", 40L)).put("source", source).put("op", "c"));
        create.headers().addString("__debezium.oldkey", "{\"id\":4}"); // SimpleHeaderConverter's reading of a Struct
        assertEquals(4L, ((Number) parser.parse(create).otherKey().get("id")).longValue());
        create.headers().remove("__debezium.oldkey").add("__debezium.oldkey", Map.of("id", 5), null);
        assertEquals(Map.of("id", 5), parser.parse(create).otherKey());
        create.headers().remove("__debezium.oldkey").addString("__debezium.oldkey", "not a key");
        DataException bad = assertThrows(DataException.class, () -> parser.parse(create));
        assertTrue(bad.getMessage().contains("cdc.public.orders-0@7 has a header __debezium.oldkey that is not a key"),
                bad.getMessage());

        assertNull(parser.parse(record("cdc.public.orders", ENVELOPE, new Struct(ENVELOPE)
                .put("after", new Struct(ROW).put("id", 41L)).put("source", source).put("op", "c"))).otherKey());
    }

    @Test
    void schemalessDebeziumEnvelope() {
        Map<String, Object> source = new HashMap<>(Map.of("schema", "inventory", "table", "items", "ts_ms", 2L,
                "sequence", "[\"10\",\"20\"]", "lsn", 20L));
        Map<String, Object> value = Map.of("op", "c", "after", Map.of("id", 3, "name", "x"), "source", source);
        RowChange change = parser.parse(record("dbserver1.inventory.items", null, value));
        assertEquals(new TableRef("inventory", "items"), change.table());
        assertEquals(3, change.columns().get("id"));
        assertEquals(20L, change.position(), "Debezium's source.lsn");
        assertEquals(2000L, change.commitMicros());
    }

    @Test
    void debeziumsUnavailableValuePlaceholderIsLeftOutLikeAnUnchangedToastValue() {
        Map<String, Object> source = Map.of("connector", "postgresql", "schema", "public", "table", "docs");
        Map<String, Object> after = new HashMap<>(Map.of("id", 1, "note", UnavailableValue.TEXT, "tags",
                List.of(UnavailableValue.TEXT), "blob", UnavailableValue.TEXT.getBytes(StandardCharsets.UTF_8),
                "qty", 2));
        RowChange change = parser.parse(record("dbz.public.docs", null, Map.of("op", "u", "after", after, "source", source)));
        assertEquals(Map.of("id", 1, "qty", 2), change.columns());
        Map<String, Object> ours = Map.of("connector", "pgcdc", "schema", "public", "table", "docs");
        RowChange text = parser.parse(record("cdc.public.docs", null, Map.of("op", "u", "after", after, "source", ours)));
        assertEquals(UnavailableValue.TEXT, text.columns().get("note"), "only Debezium's records hold its placeholder");
    }

    @Test
    void flatRowsAndMapsAreUpsertsNamedByTheirTopic() {
        Struct row = new Struct(ROW).put("id", 9L);
        RowChange fromStruct = parser.parse(record("shop.sales.orders", ROW, row));
        assertEquals(new TableRef("sales", "orders"), fromStruct.table());
        assertEquals(RowChange.Op.UPSERT, fromStruct.op());
        assertNull(fromStruct.position());
        assertEquals(ROW, fromStruct.schema());
        assertSame(ROW, fromStruct.shape());
        RowChange fromMap = parser.parse(record("orders", null, Map.of("id", 1, "total", 2.5)));
        assertEquals(new TableRef("public", "orders"), fromMap.table());
        assertEquals(2.5, fromMap.columns().get("total"));
        assertNull(fromMap.schema());
        assertNull(fromMap.shape());
    }

    @Test
    void tombstonesAndTruncatesChangeNothing() {
        assertNull(parser.parse(record("t", null, null)));
        assertNull(parser.parse(record("t", null, Map.of("op", "t", "before", Map.of()))));
    }

    @Test
    void tableNameFormatAndBadShapes() {
        RecordParser formatted = new RecordParser("olap.${source.table}_copy");
        assertEquals(new TableRef("olap", "orders_copy"),
                formatted.parse(record("a.public.orders", null, Map.of("id", 1))).table());
        DataException e = assertThrows(DataException.class, () -> parser.parse(record("t", Schema.STRING_SCHEMA, "text")));
        assertTrue(e.getMessage().contains("at t-0@7"), e.getMessage());
        DataException op = assertThrows(DataException.class,
                () -> parser.parse(record("t", null, Map.of("op", "x", "after", Map.of()))));
        assertTrue(op.getMessage().contains("op 'x'"), op.getMessage());
        assertInstanceOf(String.class, JsonValues.of(SchemaBuilder.int32().name("io.debezium.time.Date").build(), 0));
    }

    @Test
    void aValueThatBreaksItsSchemasPromiseIsADataExceptionNamingTheRecord() {
        // Valid Connect data, but the name promises days since 1970 and the value is text.
        Schema lying = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA)
                .field("d", SchemaBuilder.string().name("io.debezium.time.Date").build()).build();
        DataException e = assertThrows(DataException.class, () -> parser.parse(record("lies", lying,
                new Struct(lying).put("id", 1).put("d", "yesterday"))));
        assertTrue(e.getMessage().contains("at lies-0@7") && e.getMessage().contains("ClassCastException"), e.getMessage());
    }
}
