package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

class ColumnTypesTest {

    private static String type(Schema schema) {
        return ColumnTypes.of("f", schema);
    }

    private static Schema named(SchemaBuilder builder, String name) {
        return builder.name(name).optional().build();
    }

    @Test
    void primitiveTypes() {
        assertEquals("smallint", type(Schema.INT8_SCHEMA));
        assertEquals("smallint", type(Schema.OPTIONAL_INT16_SCHEMA));
        assertEquals("integer", type(Schema.INT32_SCHEMA));
        assertEquals("bigint", type(Schema.INT64_SCHEMA));
        assertEquals("real", type(Schema.FLOAT32_SCHEMA));
        assertEquals("double precision", type(Schema.FLOAT64_SCHEMA));
        assertEquals("boolean", type(Schema.BOOLEAN_SCHEMA));
        assertEquals("text", type(Schema.STRING_SCHEMA));
        assertEquals("bytea", type(Schema.OPTIONAL_BYTES_SCHEMA));
    }

    @Test
    void connectLogicalTypes() {
        assertEquals("date", type(Date.SCHEMA));
        assertEquals("time", type(Time.SCHEMA));
        assertEquals("timestamp", type(Timestamp.SCHEMA));
    }

    @Test
    void decimalsKeepTheirPrecisionAndScaleWhenTheSchemaSaysThem() {
        Schema declared = Decimal.builder(2).parameter("connect.decimal.precision", "10").optional().build();
        assertEquals("numeric(10,2)", type(declared));
        Schema negativeScale = Decimal.builder(-3).parameter("connect.decimal.precision", "5").build();
        assertEquals("numeric(5,-3)", type(negativeScale));
        assertEquals("numeric", type(Decimal.builder(2).build()), "a scale alone cannot be declared");
        assertEquals("numeric", type(Decimal.builder(2).parameter("connect.decimal.precision", "1001").build()));
        assertEquals("numeric", type(Decimal.builder(2).parameter("connect.decimal.precision", "1,0); DROP TABLE t; --")
                .build()), "parameters become DDL text only when they are plain numbers");
        assertEquals("numeric", type(named(SchemaBuilder.struct().field("scale", Schema.INT32_SCHEMA)
                .field("value", Schema.BYTES_SCHEMA), "io.debezium.data.VariableScaleDecimal")));
    }

    @Test
    void debeziumSemanticTypes() {
        assertEquals("date", type(named(SchemaBuilder.int32(), "io.debezium.time.Date")));
        assertEquals("time", type(named(SchemaBuilder.int64(), "io.debezium.time.MicroTime")));
        assertEquals("time", type(named(SchemaBuilder.int64(), "io.debezium.time.NanoTime")));
        assertEquals("time", type(named(SchemaBuilder.int32(), "io.debezium.time.Time")));
        assertEquals("timetz", type(named(SchemaBuilder.string(), "io.debezium.time.ZonedTime")));
        assertEquals("timestamp", type(named(SchemaBuilder.int64(), "io.debezium.time.MicroTimestamp")));
        assertEquals("timestamp", type(named(SchemaBuilder.int64(), "io.debezium.time.NanoTimestamp")));
        assertEquals("timestamp", type(named(SchemaBuilder.int64(), "io.debezium.time.Timestamp")));
        assertEquals("timestamptz", type(named(SchemaBuilder.string(), "io.debezium.time.ZonedTimestamp")));
        assertEquals("interval", type(named(SchemaBuilder.int64(), "io.debezium.time.MicroDuration")));
        assertEquals("interval", type(named(SchemaBuilder.string(), "io.debezium.time.Interval")));
        assertEquals("uuid", type(named(SchemaBuilder.string(), "io.debezium.data.Uuid")));
        assertEquals("jsonb", type(named(SchemaBuilder.string(), "io.debezium.data.Json")));
        assertEquals("text", type(named(SchemaBuilder.string(), "io.debezium.data.Enum")));
        assertEquals("integer", type(named(SchemaBuilder.int32(), "io.debezium.time.Year")),
                "an unknown name over a primitive is that primitive");
    }

    @Test
    void arraysOfMappedElements() {
        assertEquals("integer[]", type(SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA).optional().build()));
        assertEquals("timestamptz[]", type(SchemaBuilder.array(
                named(SchemaBuilder.string(), "io.debezium.time.ZonedTimestamp")).build()));
        assertEquals("numeric(4,1)[]", type(SchemaBuilder.array(
                Decimal.builder(1).parameter("connect.decimal.precision", "4").build()).build()));
    }

    @Test
    void unknownTypesNameTheFieldAndTheSchema() {
        Schema point = named(SchemaBuilder.struct().field("x", Schema.FLOAT64_SCHEMA), "io.debezium.data.geometry.Point");
        DataException e = assertThrows(DataException.class, () -> ColumnTypes.of("location", point));
        assertTrue(e.getMessage().contains("\"location\"") && e.getMessage().contains("STRUCT")
                && e.getMessage().contains("io.debezium.data.geometry.Point"), e.getMessage());
        DataException map = assertThrows(DataException.class, () -> ColumnTypes.of("attrs",
                SchemaBuilder.array(SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build()).build()));
        assertTrue(map.getMessage().contains("\"attrs[]\"") && map.getMessage().contains("MAP"), map.getMessage());
    }
}
