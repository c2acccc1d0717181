package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pgcdc.source.schema.Envelope;

class SchemaCachingJsonConverterTest {

    private static final Schema ROW = SchemaBuilder.struct().name("db.public.t.Value").optional()
            .field("id", Schema.INT64_SCHEMA)
            .field("small", Schema.OPTIONAL_INT16_SCHEMA)
            .field("ratio", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("flag", SchemaBuilder.bool().optional().defaultValue(true).build())
            .field("label", Schema.OPTIONAL_STRING_SCHEMA)
            .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("price", Decimal.builder(2).optional().build())
            .field("stamp", Timestamp.builder().optional().build())
            .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
            .field("counts", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.INT64_SCHEMA).optional().build())
            .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).optional().build())
            .build();
    private static final Schema OTHER_ROW = SchemaBuilder.struct().name("db.public.u.Value").optional()
            .field("id", Schema.INT32_SCHEMA).build();
    private static final Schema ENVELOPE = Envelope.schema("db.public.t.Envelope", ROW, true);
    private static final Schema OTHER_ENVELOPE = Envelope.schema("db.public.u.Envelope", OTHER_ROW, false);

    @ParameterizedTest
    @CsvSource({"BASE64, true", "NUMERIC, true", "NUMERIC, false"})
    void writesJsonConvertersBytesForEveryRecord(String decimalFormat, boolean replaceNullWithDefault) {
        Map<String, Object> config = Map.of("schemas.enable", true, "decimal.format", decimalFormat,
                "replace.null.with.default", replaceNullWithDefault, "schemas.cache.size", 1);
        JsonConverter reference = converter(new JsonConverter(), config, false);
        SchemaCachingJsonConverter caching = converter(new SchemaCachingJsonConverter(), config, false);

        // Alternating schemas with a cache of one: each record is learnt, cached or evicted in turn.
        List<Object[]> records = List.of(
                new Object[] {ENVELOPE, change("c", null, full(1))},
                new Object[] {ENVELOPE, change("u", full(1), full(2))},
                new Object[] {OTHER_ENVELOPE, new Struct(OTHER_ENVELOPE).put(Envelope.OP, "c")
                        .put(Envelope.AFTER, new Struct(OTHER_ROW).put("id", 7)).put(Envelope.SOURCE, source())},
                new Object[] {ENVELOPE, change("u", sparse(3), sparse(3))},
                new Object[] {ENVELOPE, change("d", full(4), null)},
                new Object[] {ROW, null},
                new Object[] {null, Map.of("schemaless", 1)},
                new Object[] {null, null});
        for (int round = 0; round < 2; round++) {
            for (Object[] record : records) {
                Schema schema = (Schema) record[0];
                byte[] expected = reference.fromConnectData("t", schema, record[1]);
                byte[] actual = caching.fromConnectData("t", schema, record[1]);
                assertArrayEquals(expected, actual, () -> "expected " + text(expected) + "\n but was " + text(actual));
            }
        }
        assertTrue(caching.cached(ROW), "the last schema seen is cached");
        assertEquals(reference.toConnectData("t", reference.fromConnectData("t", ENVELOPE, change("c", null, full(5)))),
                caching.toConnectData("t", caching.fromConnectData("t", ENVELOPE, change("c", null, full(5)))));
    }

    @Test
    void keysAndSchemalessConfigurationsAreJsonConvertersToo() {
        Schema key = SchemaBuilder.struct().name("db.public.t.Key").field("id", Schema.INT64_SCHEMA).build();
        Struct id = new Struct(key).put("id", 9L);
        for (boolean schemas : new boolean[] {true, false}) {
            Map<String, Object> config = Map.of("schemas.enable", schemas);
            JsonConverter reference = converter(new JsonConverter(), config, true);
            SchemaCachingJsonConverter caching = converter(new SchemaCachingJsonConverter(), config, true);
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(reference.fromConnectData("t", key, id), caching.fromConnectData("t", key, id));
                assertArrayEquals(reference.fromConnectData("t", ENVELOPE, change("c", null, full(i))),
                        caching.fromConnectData("t", ENVELOPE, change("c", null, full(i))));
            }
        }
    }

    @Test
    void aValueItsSchemaRefusesFailsAsInJsonConverter() {
        Map<String, Object> config = Map.of("schemas.enable", true);
        JsonConverter reference = converter(new JsonConverter(), config, false);
        SchemaCachingJsonConverter caching = converter(new SchemaCachingJsonConverter(), config, false);
        caching.fromConnectData("t", OTHER_ENVELOPE, new Struct(OTHER_ENVELOPE).put(Envelope.OP, "c")
                .put(Envelope.SOURCE, source()));
        Struct withoutOp = new Struct(OTHER_ENVELOPE).put(Envelope.SOURCE, source());
        DataException expected = assertThrows(DataException.class, () -> reference.fromConnectData("t", OTHER_ENVELOPE, withoutOp));
        DataException actual = assertThrows(DataException.class, () -> caching.fromConnectData("t", OTHER_ENVELOPE, withoutOp));
        assertEquals(expected.getMessage(), actual.getMessage());
        assertNull(caching.fromConnectData("t", null, null));
    }

    private static <C extends org.apache.kafka.connect.storage.Converter> C converter(C converter,
            Map<String, Object> config, boolean isKey) {
        converter.configure(config, isKey);
        return converter;
    }

    private static Struct change(String op, Struct before, Struct after) {
        return new Struct(ENVELOPE).put(Envelope.OP, op).put(Envelope.BEFORE, before).put(Envelope.AFTER, after)
                .put(Envelope.SOURCE, source()).put(Envelope.TS_MS, 1_700_000_000_123L)
                .put(Envelope.TRANSACTION, new Struct(Envelope.TRANSACTION_BLOCK_SCHEMA).put(Envelope.TX_ID, "771:1a2b")
                        .put(Envelope.TX_TOTAL_ORDER, 3L).put(Envelope.TX_DATA_COLLECTION_ORDER, 2L));
    }

    private static Struct source() {
        return new Struct(Envelope.SOURCE_SCHEMA_DEF).put(Envelope.SOURCE_VERSION, "0.1.0")
                .put(Envelope.SOURCE_CONNECTOR, "pgcdc").put(Envelope.SOURCE_NAME, "db").put(Envelope.SOURCE_TS_MS, 1L)
                .put(Envelope.SOURCE_TS_US, 1000L).put(Envelope.SOURCE_DB, "oltp").put(Envelope.SOURCE_SCHEMA, "public")
                .put(Envelope.SOURCE_TABLE, "t").put(Envelope.SOURCE_TX_ID, 771L).put(Envelope.SOURCE_LSN, 1234L)
                .put(Envelope.SOURCE_LSN_COMMIT, 1300L).put(Envelope.SOURCE_CHANGE_INDEX, 2)
                .put(Envelope.SOURCE_UNCHANGED_TOAST, List.of("blob"));
    }

    private static Struct full(long id) {
        return new Struct(ROW).put("id", id).put("small", (short) -3).put("ratio", 0.1 + id).put("flag", false)
                .put("label", "quote \" back \\ tab \t é ✓ \uD83D\uDE00").put("blob", new byte[] {0, 1, (byte) 0xff})
                .put("price", new BigDecimal("-12.34")).put("stamp", new Date(1_700_000_000_123L + id))
                .put("tags", List.of("a", "b")).put("counts", Map.of(1, 2L)).put("attrs", Map.of("k", "v"));
    }

    /** Only the key: the optional fields are null, and "flag" has a default. */
    private static Struct sparse(long id) {
        return new Struct(ROW).put("id", id);
    }

    private static String text(byte[] bytes) {
        return bytes == null ? "null" : new String(bytes, StandardCharsets.UTF_8);
    }
}
