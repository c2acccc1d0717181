package io.pgcdc.sink;

import java.util.Map;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * The PostgreSQL type of a column the sink creates for a record field (auto.create, auto.evolve).
 * A schema's name goes first, since it says what the primitive value means (days, microseconds,
 * a UUID's text); a name not known here falls back to the primitive type, which is how the sink
 * writes such values anyway.
 */
final class ColumnTypes {

    /** Set by this project's source and by Debezium on decimals from a column with a declared precision. */
    private static final String DECIMAL_PRECISION = "connect.decimal.precision";
    private static final int MAX_NUMERIC_PRECISION = 1000;

    private ColumnTypes() {
    }

    /** The type for {@code field}; a DataException naming the field when no column type fits its schema. */
    static String of(String field, Schema schema) {
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case Decimal.LOGICAL_NAME:
                    return numeric(schema);
                case "io.debezium.data.VariableScaleDecimal":
                    return "numeric";
                case Date.LOGICAL_NAME, "io.debezium.time.Date":
                    return "date";
                case Time.LOGICAL_NAME, "io.debezium.time.Time", "io.debezium.time.MicroTime", "io.debezium.time.NanoTime":
                    return "time";
                case "io.debezium.time.ZonedTime":
                    return "timetz";
                case Timestamp.LOGICAL_NAME, "io.debezium.time.Timestamp", "io.debezium.time.MicroTimestamp",
                        "io.debezium.time.NanoTimestamp":
                    return "timestamp";
                case "io.debezium.time.ZonedTimestamp":
                    return "timestamptz";
                case "io.debezium.time.MicroDuration", "io.debezium.time.Interval":
                    return "interval";
                case "io.debezium.data.Uuid":
                    return "uuid";
                case "io.debezium.data.Json":
                    return "jsonb";
                default:
                    break;
            }
        }
        return switch (schema.type()) {
            case INT8, INT16 -> "smallint";
            case INT32 -> "integer";
            case INT64 -> "bigint";
            case FLOAT32 -> "real";
            case FLOAT64 -> "double precision";
            case BOOLEAN -> "boolean";
            case STRING -> "text";
            case BYTES -> "bytea";
            case ARRAY -> of(field + "[]", schema.valueSchema()) + "[]";
            default -> throw new DataException("Field \"" + field + "\" has schema type " + schema.type()
                    + (name == null ? "" : " named " + name) + ", for which the sink knows no PostgreSQL column type; "
                    + "create the column yourself");
        };
    }

    /**
     * numeric(p,s) when the schema says the precision; else unbounded numeric, which keeps each value's
     * own scale (PostgreSQL cannot declare a scale without a precision).
     */
    private static String numeric(Schema schema) {
        Map<String, String> parameters = schema.parameters();
        String precision = parameters == null ? null : parameters.get(DECIMAL_PRECISION);
        String scale = parameters == null ? null : parameters.get(Decimal.SCALE_FIELD);
        // Checked to be numbers PostgreSQL accepts here, since they become part of the DDL's text.
        if (precision == null || scale == null || !precision.matches("[1-9][0-9]{0,3}") || !scale.matches("-?[0-9]{1,4}")
                || Integer.parseInt(precision) > MAX_NUMERIC_PRECISION
                || Math.abs(Integer.parseInt(scale)) > MAX_NUMERIC_PRECISION) {
            return "numeric";
        }
        return "numeric(" + precision + "," + scale + ")";
    }
}
