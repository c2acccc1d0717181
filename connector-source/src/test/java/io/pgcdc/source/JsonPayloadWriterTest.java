package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
import org.apache.kafka.connect.json.DecimalFormat;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonPayloadWriterTest {

    private static final Schema INNER = SchemaBuilder.struct().name("inner").optional()
            .field("n", Schema.INT32_SCHEMA).build();
    private static final Schema ROW = SchemaBuilder.struct().name("db.public.t.Value").optional()
            .field("i8", Schema.OPTIONAL_INT8_SCHEMA)
            .field("i16", Schema.OPTIONAL_INT16_SCHEMA)
            .field("i32", Schema.OPTIONAL_INT32_SCHEMA)
            .field("i64", Schema.INT64_SCHEMA)
            .field("f32", Schema.OPTIONAL_FLOAT32_SCHEMA)
            .field("f64", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("flag", SchemaBuilder.bool().optional().defaultValue(true).build())
            .field("label", Schema.OPTIONAL_STRING_SCHEMA)
            .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("price", Decimal.builder(3).optional().build())
            .field("day", Date.builder().optional().build())
            .field("clock", Time.builder().optional().build())
            .field("stamp", Timestamp.builder().optional().build())
            .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_FLOAT64_SCHEMA).optional().build())
            .field("inner", INNER)
            .field("named", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
            .build();

    @ParameterizedTest
    @CsvSource({"BASE64, true", "NUMERIC, true", "BASE64, false", "NUMERIC, false"})
    void writesJsonConvertersPayloadBytes(String decimalFormat, boolean replaceNullWithDefault) throws Exception {
        JsonConverter reference = new JsonConverter();
        reference.configure(Map.of("schemas.enable", false, "decimal.format", decimalFormat,
                "replace.null.with.default", replaceNullWithDefault), false);
        JsonPayloadWriter writer = new JsonPayloadWriter(DecimalFormat.valueOf(decimalFormat), replaceNullWithDefault);

        Map<String, Double> attrs = new LinkedHashMap<>();
        attrs.put("z", 1.5e300);
        attrs.put("a", null);
        attrs.put("é ✓", -0.0);
        Struct full = new Struct(ROW).put("i8", (byte) -8).put("i16", (short) 300).put("i32", Integer.MIN_VALUE)
                .put("i64", Long.MAX_VALUE).put("f32", 3.1415927f).put("f64", 0.1 + 0.2).put("flag", false)
                .put("label", "quote \" back \\ tab \t nul \u0000 é ✓ \uD83D\uDE00").put("blob", new byte[] {0, 1, (byte) 0xff})
                .put("price", new BigDecimal("-12345678901234567890.120")).put("day", new java.util.Date(86_400_000L * 19_000))
                .put("clock", new java.util.Date(45_296_789L)).put("stamp", new java.util.Date(-1_700_000_000_123L))
                .put("tags", Arrays.asList("a", null, "")).put("attrs", attrs)
                .put("inner", new Struct(INNER).put("n", 7)).put("named", "{\"k\": [1, 2]}");
        Struct sparse = new Struct(ROW).put("i64", 0L);

        for (Struct row : List.of(full, sparse)) {
            assertEquals(text(reference.fromConnectData("t", ROW, row)), text(written(writer, ROW, row)));
        }
        assertEquals(text(reference.fromConnectData("t", ROW, null)), text(written(writer, ROW, null)));
    }

    /** What JsonConverter writes in a form this writer does not take on, or refuses, is left to JsonConverter. */
    @Test
    void declinesWhatItDoesNotWriteAsJsonConverterDoes() {
        JsonPayloadWriter writer = new JsonPayloadWriter(DecimalFormat.BASE64, true);
        Schema intKeys = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();
        Schema otherInner = SchemaBuilder.struct().name("inner").optional().field("n", Schema.INT32_SCHEMA).build();
        assertThrows(JsonPayloadWriter.Unwritable.class, () -> written(writer, intKeys, Map.of(1, "one")));
        assertThrows(JsonPayloadWriter.Unwritable.class, () -> written(writer, Schema.BYTES_SCHEMA, ByteBuffer.wrap(new byte[1])));
        assertThrows(JsonPayloadWriter.Unwritable.class, () -> written(writer, Schema.INT64_SCHEMA, 1));
        assertThrows(JsonPayloadWriter.Unwritable.class, () -> written(writer, Schema.INT64_SCHEMA, null));
        // A struct of an equal but distinct schema is written (JsonConverter compares schemas by equality) ...
        assertEquals("{\"n\":1}", text(assertWritten(writer, INNER, new Struct(otherInner).put("n", 1))));
        // ... a struct missing a required field is not.
        assertThrows(JsonPayloadWriter.Unwritable.class, () -> written(writer, INNER, new Struct(INNER)));
    }

    private static byte[] assertWritten(JsonPayloadWriter writer, Schema schema, Object value) {
        try {
            return written(writer, schema, value);
        } catch (Exception e) {
            throw new AssertionError("not written: " + e, e);
        }
    }

    private static byte[] written(JsonPayloadWriter writer, Schema schema, Object value) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.write(schema, value, out);
        return out.toByteArray();
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
