package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Records read from JsonConverter's bytes must come out exactly as from the Struct JsonConverter makes of them. */
class JsonRecordReaderTest {

    private static final String TOPIC = "cdc.public.items";

    private static final Schema VARIABLE_DECIMAL = SchemaBuilder.struct().name("io.debezium.data.VariableScaleDecimal")
            .field("scale", Schema.INT32_SCHEMA).field("value", Schema.BYTES_SCHEMA).optional().build();
    private static final Schema ROW = SchemaBuilder.struct().optional()
            .field("id", Schema.INT64_SCHEMA)
            .field("small", Schema.OPTIONAL_INT16_SCHEMA)
            .field("tiny", Schema.OPTIONAL_INT8_SCHEMA)
            .field("count", Schema.OPTIONAL_INT32_SCHEMA)
            .field("ratio", Schema.OPTIONAL_FLOAT32_SCHEMA)
            .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("flag", Schema.OPTIONAL_BOOLEAN_SCHEMA)
            .field("label", Schema.OPTIONAL_STRING_SCHEMA)
            .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("price", Decimal.builder(2).optional().build())
            .field("amount", VARIABLE_DECIMAL)
            .field("day", Date.builder().optional().build())
            .field("clock", Time.builder().optional().build())
            .field("stamp", Timestamp.builder().optional().build())
            .field("micro", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
            .field("doc", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
            .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("grid", SchemaBuilder.array(SchemaBuilder.array(Schema.INT32_SCHEMA).build()).optional().build())
            .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("status", SchemaBuilder.string().defaultValue("new").build())
            .build();
    private static final Schema SOURCE = RecordParserTest.SOURCE;
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("cdc.Envelope")
            .field("before", ROW).field("after", ROW).field("source", SOURCE).field("op", Schema.STRING_SCHEMA).build();
    private static final Schema KEY = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();

    /** Decimals as base64 bytes, JsonConverter's default; the example workers' NUMERIC is read in its own test. */
    private final JsonConverter converter = new JsonConverter();

    JsonRecordReaderTest() {
        converter.configure(Map.of("schemas.enable", true), false);
    }

    private static Struct fullRow(long id) {
        return new Struct(ROW).put("id", id).put("small", (short) -3).put("tiny", (byte) 7).put("count", 42)
                .put("ratio", 0.25f).put("score", 1.0e300).put("flag", true).put("label", "ünïcode \"quoted\"")
                .put("blob", new byte[] {0, 1, (byte) 0xff}).put("price", new BigDecimal("12.34"))
                .put("amount", new Struct(VARIABLE_DECIMAL).put("scale", 3).put("value", new byte[] {0x30, 0x39}))
                .put("day", new java.util.Date(86_400_000L * 19_000)).put("clock", new java.util.Date(3_600_000L))
                .put("stamp", new java.util.Date(1_700_000_000_123L)).put("micro", 1_700_000_000_123_456L)
                .put("doc", "{\"a\":[1,null]}").put("tags", java.util.Arrays.asList("x", null))
                .put("grid", List.of(List.of(1, 2), List.of())).put("status", "old");
    }

    private static Struct envelope(String op, Struct before, Struct after, List<String> unchanged) {
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "items").put("ts_us", 5L)
                .put("lsn_commit", 100L).put("change_index", 3).put("lsn", 90L).put("unchanged_toast", unchanged);
        return new Struct(ENVELOPE).put("before", before).put("after", after).put("source", source).put("op", op);
    }

    private SinkRecord structRecord(Struct key, Struct value, long offset) {
        // Through JsonConverter and back: what the worker hands a sink whose value.converter is JsonConverter.
        Struct k = key == null ? null : (Struct) converter.toConnectData(TOPIC, converter.fromConnectData(TOPIC, KEY, key)).value();
        Struct v = (Struct) converter.toConnectData(TOPIC, converter.fromConnectData(TOPIC, ENVELOPE, value)).value();
        return new SinkRecord(TOPIC, 0, key == null ? null : KEY, k, ENVELOPE, v, offset);
    }

    private SinkRecord bytesRecord(Struct key, Schema schema, Struct value, long offset) {
        byte[] k = key == null ? null : converter.fromConnectData(TOPIC, KEY, key);
        return new SinkRecord(TOPIC, 0, Schema.OPTIONAL_BYTES_SCHEMA, k, Schema.OPTIONAL_BYTES_SCHEMA,
                converter.fromConnectData(TOPIC, schema, value), offset);
    }

    private static void assertSame(RowChange expected, RowChange actual) {
        assertEquals(expected.table(), actual.table());
        assertEquals(expected.op(), actual.op());
        assertEquals(expected.columns().keySet(), actual.columns().keySet());
        expected.columns().forEach((column, value) -> assertEquals(value, actual.columns().get(column), column));
        assertEquals(expected.schema(), actual.schema());
        assertEquals(expected.position(), actual.position());
        assertEquals(expected.commitMicros(), actual.commitMicros());
    }

    @Test
    void aTopicsSchemaIsLearntOnceThenItsRecordsAreStreamedToTheSameChanges() {
        RecordParser fromStructs = new RecordParser("${source.schema}.${source.table}");
        RecordParser fromBytes = new RecordParser("${source.schema}.${source.table}");
        JsonRecordReader reader = new JsonRecordReader();
        for (long id = 1; id <= 3; id++) {
            Struct value = envelope("u", null, fullRow(id), List.of("label"));
            assertSame(fromStructs.parse(structRecord(null, value, id)), fromBytes.parse(bytesRecord(null, ENVELOPE, value, id)));
            reader.read(TOPIC, converter.fromConnectData(TOPIC, ENVELOPE, value), (s, v) -> Map.of());
            assertTrue(reader.streams(TOPIC), "after its first record a topic's records are streamed");
        }
        Struct nulls = envelope("c", null, new Struct(ROW).put("id", 9L), null);
        assertSame(fromStructs.parse(structRecord(null, nulls, 9)), fromBytes.parse(bytesRecord(null, ENVELOPE, nulls, 9)));
        Struct delete = envelope("d", fullRow(4), null, null);
        Struct key = new Struct(KEY).put("id", 4L);
        RowChange deleted = fromBytes.parse(bytesRecord(key, ENVELOPE, delete, 10));
        assertSame(fromStructs.parse(structRecord(key, delete, 10)), deleted);
        assertEquals(4L, deleted.columns().get("id"));
    }

    @Test
    void decimalsWrittenAsNumbersAreReadExactly() {
        JsonConverter numeric = SinkTestBed.converter(true);
        RecordParser fromStructs = new RecordParser("${source.schema}.${source.table}");
        RecordParser fromBytes = new RecordParser("${source.schema}.${source.table}");
        for (long id = 1; id <= 2; id++) {
            Struct value = envelope("c", null, fullRow(id), null);
            byte[] json = numeric.fromConnectData(TOPIC, ENVELOPE, value);
            assertTrue(new String(json, StandardCharsets.UTF_8).contains("\"price\":12.34"), "NUMERIC decimals");
            Struct struct = (Struct) numeric.toConnectData(TOPIC, json).value();
            RowChange expected = fromStructs.parse(new SinkRecord(TOPIC, 0, null, null, ENVELOPE, struct, id));
            RowChange actual = fromBytes.parse(new SinkRecord(TOPIC, 0, null, null, null, json, id));
            assertSame(expected, actual);
            assertEquals(new BigDecimal("12.34"), actual.columns().get("price"));
        }
    }

    @Test
    void fieldsOutOfSchemaOrderAreFoundByName() throws Exception {
        RecordParser fromStructs = new RecordParser("${source.schema}.${source.table}");
        RecordParser fromBytes = new RecordParser("${source.schema}.${source.table}");
        Struct value = envelope("u", null, fullRow(5), null);
        SinkRecord learnt = bytesRecord(null, ENVELOPE, value, 1);
        fromBytes.parse(learnt);
        String text = new String((byte[]) learnt.value(), StandardCharsets.UTF_8);
        int payload = text.indexOf(",\"payload\":");
        ObjectMapper mapper = new ObjectMapper();
        Map<String, Object> fields = mapper.readValue(text.substring(payload + ",\"payload\":".length(), text.length() - 1),
                new TypeReference<LinkedHashMap<String, Object>>() { });
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) fields.get("after");
        Map<String, Object> reversed = reversed(fields);
        reversed.put("after", reversed(after));
        byte[] shuffled = (text.substring(0, payload) + ",\"payload\":" + mapper.writeValueAsString(reversed) + "}")
                .getBytes(StandardCharsets.UTF_8);
        assertSame(fromStructs.parse(structRecord(null, value, 2)),
                fromBytes.parse(new SinkRecord(TOPIC, 0, null, null, null, shuffled, 2)));
    }

    @Test
    void aFieldLeftOutTakesItsDefaultAndARepeatedFieldItsLastValueAsJsonConverterReadsThem() {
        RecordParser fromStructs = new RecordParser("${source.schema}.${source.table}");
        RecordParser fromBytes = new RecordParser("${source.schema}.${source.table}");
        Struct value = envelope("u", null, fullRow(6), null);
        fromBytes.parse(bytesRecord(null, ENVELOPE, value, 1));
        String text = new String(converter.fromConnectData(TOPIC, ENVELOPE, value), StandardCharsets.UTF_8);
        assertEquals(1, text.split("\"status\":\"old\"", -1).length - 1);
        byte[] edited = text.replace("\"status\":\"old\"", "\"label\":\"second\"").getBytes(StandardCharsets.UTF_8);
        Struct asJsonConverterReadsIt = (Struct) converter.toConnectData(TOPIC, edited).value();
        RowChange expected = fromStructs.parse(structRecord(null, asJsonConverterReadsIt, 2));
        RowChange actual = fromBytes.parse(new SinkRecord(TOPIC, 0, null, null, null, edited, 2));
        assertSame(expected, actual);
        assertEquals("second", actual.columns().get("label"));
        assertEquals("new", actual.columns().get("status"));
    }

    private static Map<String, Object> reversed(Map<String, Object> map) {
        List<String> keys = new ArrayList<>(map.keySet());
        java.util.Collections.reverse(keys);
        Map<String, Object> out = new LinkedHashMap<>();
        keys.forEach(k -> out.put(k, map.get(k)));
        return out;
    }

    @Test
    void aChangedSchemaIsLearntAgainAndRecordsOfTheOldOneStillRead() {
        Schema wider = SchemaBuilder.struct().name("cdc.Envelope").field("before", ROW)
                .field("after", SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA)
                        .field("added", Schema.OPTIONAL_STRING_SCHEMA).build())
                .field("source", SOURCE).field("op", Schema.STRING_SCHEMA).build();
        RecordParser parser = new RecordParser("${source.schema}.${source.table}");
        parser.parse(bytesRecord(null, ENVELOPE, envelope("c", null, fullRow(1), null), 1));
        Struct source = envelope("c", null, null, null).getStruct("source");
        Struct widened = new Struct(wider).put("source", source).put("op", "c")
                .put("after", new Struct(wider.field("after").schema()).put("id", 2L).put("added", "yes"));
        RowChange change = parser.parse(bytesRecord(null, wider, widened, 2));
        assertEquals(Map.of("id", 2L, "added", "yes"), change.columns());
        assertEquals(wider.field("after").schema(), change.schema());
        assertEquals(42, parser.parse(bytesRecord(null, ENVELOPE, envelope("c", null, fullRow(3), null), 3)).columns().get("count"));
    }

    @Test
    void aRecordBreakingItsSchemaFailsAsJsonConverterWouldNamingTheRecord() {
        RecordParser parser = new RecordParser("${source.schema}.${source.table}");
        SinkRecord good = bytesRecord(null, ENVELOPE, envelope("c", null, fullRow(1), null), 1);
        parser.parse(good);
        String text = new String((byte[]) good.value(), StandardCharsets.UTF_8);
        String noId = text.replace("\"id\":1,", "\"id\":null,");
        assertTrue(noId.contains("\"id\":null"), "the test's edit took");
        SinkRecord broken = new SinkRecord(TOPIC, 0, null, null, null, noId.getBytes(StandardCharsets.UTF_8), 2);
        DataException e = assertThrows(DataException.class, () -> parser.parse(broken));
        assertTrue(e.getMessage().contains("at " + TOPIC + "-0@2"), e.getMessage());
        DataException expected = assertThrows(DataException.class,
                () -> converter.toConnectData(TOPIC, noId.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(expected.getMessage()), e.getMessage() + " / " + expected.getMessage());
        SinkRecord notJson = new SinkRecord(TOPIC, 0, null, null, null, "{\"schema\":".getBytes(StandardCharsets.UTF_8), 3);
        assertTrue(assertThrows(DataException.class, () -> parser.parse(notJson)).getMessage().contains("at " + TOPIC + "-0@3"));
    }

    @Test
    void schemalessJsonTombstonesAndNullPayloadsAreReadAsWithJsonConverter() {
        RecordParser parser = new RecordParser("${source.schema}.${source.table}");
        SinkRecord schemaless = new SinkRecord("shop.public.orders", 0, null, null, null,
                SinkTestBed.converter(false).fromConnectData("t", null, Map.of("id", 1, "schema", "s")), 1);
        RowChange row = parser.parse(schemaless);
        assertEquals(Map.of("id", 1L, "schema", "s"), row.columns());
        assertNull(row.schema());
        assertNull(parser.parse(new SinkRecord(TOPIC, 0, null, null, null, null, 2)));
        byte[] nullPayload = converter.fromConnectData(TOPIC, SchemaBuilder.struct().optional().build(), null);
        assertNull(parser.parse(new SinkRecord(TOPIC, 0, null, null, null, nullPayload, 3)));
        assertNull(parser.parse(new SinkRecord(TOPIC, 0, null, null, null, nullPayload, 4)), "streamed too");
        assertFalse(new JsonRecordReader().streams(TOPIC));
    }
}
