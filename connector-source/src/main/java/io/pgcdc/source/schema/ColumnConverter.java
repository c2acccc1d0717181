package io.pgcdc.source.schema;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;

import io.pgcdc.source.SourceConfig.DecimalHandling;

/**
 * Turns one column's pgoutput text into a Connect value, with the Connect schema that
 * describes it. Temporal and special types carry Debezium's semantic schema names, so
 * consumers that understand Debezium's PostgreSQL events understand these too.
 */
public final class ColumnConverter {

    public static final String JSON = "io.debezium.data.Json";
    public static final String UUID = "io.debezium.data.Uuid";
    public static final String ENUM = "io.debezium.data.Enum";
    public static final String DATE = "io.debezium.time.Date";
    public static final String MICRO_TIME = "io.debezium.time.MicroTime";
    public static final String ZONED_TIME = "io.debezium.time.ZonedTime";
    public static final String MICRO_TIMESTAMP = "io.debezium.time.MicroTimestamp";
    public static final String ZONED_TIMESTAMP = "io.debezium.time.ZonedTimestamp";
    public static final String INTERVAL = "io.debezium.time.Interval";

    private final Schema schema;
    private final Function<String, Object> parser;

    private ColumnConverter(Schema schema, Function<String, Object> parser) {
        this.schema = schema;
        this.parser = parser;
    }

    /** The optional schema of this column's values. */
    public Schema schema() {
        return schema;
    }

    public Object convert(String text) {
        return text == null ? null : parser.apply(text);
    }

    /**
     * The converter for a column of {@code type}, with the column's type modifier. Domains
     * resolve to their base type; any type without a dedicated mapping is carried as its text.
     */
    public static ColumnConverter forType(PgType type, int typmod, TypeResolver types, DecimalHandling decimals) {
        PgType resolved = type;
        int modifier = typmod;
        while (resolved.isDomain()) {
            if (modifier < 0) {
                modifier = resolved.baseTypmod();
            }
            resolved = types.resolve(resolved.baseOid());
        }
        if (resolved.isArray()) {
            ColumnConverter element = forType(types.resolve(resolved.elementOid()), modifier, types, decimals);
            return array(element);
        }
        if (resolved.isEnum()) {
            return new ColumnConverter(SchemaBuilder.string().name(ENUM).optional().build(), text -> text);
        }
        if (!resolved.isBuiltin()) {
            return text();
        }
        switch (resolved.name()) {
            case "bool":
                return new ColumnConverter(Schema.OPTIONAL_BOOLEAN_SCHEMA, PgText::parseBoolean);
            case "int2":
                return new ColumnConverter(Schema.OPTIONAL_INT16_SCHEMA, Short::valueOf);
            case "int4":
                return new ColumnConverter(Schema.OPTIONAL_INT32_SCHEMA, Integer::valueOf);
            case "int8":
            case "oid":
                return new ColumnConverter(Schema.OPTIONAL_INT64_SCHEMA, Long::valueOf);
            case "float4":
                return new ColumnConverter(Schema.OPTIONAL_FLOAT32_SCHEMA, t -> (float) PgText.parseDouble(t));
            case "float8":
                return new ColumnConverter(Schema.OPTIONAL_FLOAT64_SCHEMA, PgText::parseDouble);
            case "numeric":
                return numeric(modifier, decimals);
            case "uuid":
                return new ColumnConverter(SchemaBuilder.string().name(UUID).optional().build(), t -> t);
            case "json":
            case "jsonb":
                return new ColumnConverter(SchemaBuilder.string().name(JSON).optional().build(), t -> t);
            case "bytea":
                return new ColumnConverter(Schema.OPTIONAL_BYTES_SCHEMA, PgText::parseBytea);
            case "date":
                return new ColumnConverter(SchemaBuilder.int32().name(DATE).optional().build(), PgText::parseDate);
            case "time":
                return new ColumnConverter(SchemaBuilder.int64().name(MICRO_TIME).optional().build(), PgText::parseTime);
            case "timetz":
                return new ColumnConverter(SchemaBuilder.string().name(ZONED_TIME).optional().build(), PgText::parseTimeTzToUtc);
            case "timestamp":
                return new ColumnConverter(SchemaBuilder.int64().name(MICRO_TIMESTAMP).optional().build(),
                        PgText::parseTimestamp);
            case "timestamptz":
                return new ColumnConverter(SchemaBuilder.string().name(ZONED_TIMESTAMP).optional().build(),
                        t -> PgText.formatTimestampTz(PgText.parseTimestampTz(t)));
            case "interval":
                return new ColumnConverter(SchemaBuilder.string().name(INTERVAL).optional().build(), t -> t);
            default:
                return text();
        }
    }

    private static ColumnConverter text() {
        return new ColumnConverter(Schema.OPTIONAL_STRING_SCHEMA, t -> t);
    }

    private static ColumnConverter numeric(int typmod, DecimalHandling decimals) {
        switch (decimals) {
            case DOUBLE:
                return new ColumnConverter(Schema.OPTIONAL_FLOAT64_SCHEMA, PgText::parseDouble);
            case STRING:
                return text();
            default:
                if (typmod < 4) { // unconstrained numeric: no fixed scale for a Connect Decimal
                    return text();
                }
                int precision = ((typmod - 4) >> 16) & 0xffff;
                // The scale is an 11-bit signed field (negative scales exist since PostgreSQL 15).
                int scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
                Schema schema = Decimal.builder(scale).parameter("connect.decimal.precision", String.valueOf(precision))
                        .optional().build();
                return new ColumnConverter(schema, t -> {
                    if (t.equals("NaN") || t.endsWith("Infinity")) {
                        throw new IllegalArgumentException("numeric value '" + t + "' cannot be a Connect Decimal; "
                                + "set decimal.handling.mode to string or double");
                    }
                    return new BigDecimal(t).setScale(scale);
                });
        }
    }

    private static ColumnConverter array(ColumnConverter element) {
        Schema schema = SchemaBuilder.array(element.schema()).optional().build();
        return new ColumnConverter(schema, text -> {
            List<String> items = PgText.parseArray(text);
            List<Object> values = new ArrayList<>(items.size());
            for (String item : items) {
                values.add(element.convert(item));
            }
            return values;
        });
    }

    /** Finds types by OID, failing with a clear message when one is unknown. */
    @FunctionalInterface
    public interface TypeResolver {
        PgType resolve(int oid);
    }
}
