package io.pgcdc.source;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.Map;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.DecimalFormat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;

/**
 * Writes a Connect value as JsonConverter writes a payload, byte for byte, straight from the value:
 * JsonConverter first builds a tree of nodes for every record and then serializes it. Only values
 * that JsonConverter would write without complaint are written here; for anything else (a value not
 * of its schema's type, a missing required field, a map with keys other than strings, a ByteBuffer)
 * {@link #write} says no, and the caller lets JsonConverter write it, or fail with its own error.
 */
final class JsonPayloadWriter {

    /** The value is not one this writer takes on: JsonConverter writes it instead. */
    static final class Unwritable extends Exception {
        private Unwritable() {
            super(null, null, false, false);
        }
    }

    private static final Unwritable UNWRITABLE = new Unwritable();
    /** The caller goes on writing to the stream after the payload. */
    private static final JsonFactory FACTORY = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private final boolean decimalsAsNumbers;
    private final boolean replaceNullWithDefault;

    JsonPayloadWriter(DecimalFormat decimalFormat, boolean replaceNullWithDefault) {
        this.decimalsAsNumbers = decimalFormat == DecimalFormat.NUMERIC;
        this.replaceNullWithDefault = replaceNullWithDefault;
    }

    /** Writes the value's JSON to {@code out}; on {@link Unwritable} part of it may have been written. */
    void write(Schema schema, Object value, OutputStream out) throws Unwritable, IOException {
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            write(generator, schema, value);
        }
    }

    private void write(JsonGenerator out, Schema schema, Object value) throws Unwritable, IOException {
        if (value == null) {
            if (schema.defaultValue() != null && replaceNullWithDefault) {
                write(out, schema, schema.defaultValue());
            } else if (schema.isOptional()) {
                out.writeNull();
            } else {
                throw UNWRITABLE;
            }
            return;
        }
        String name = schema.name();
        if (name != null && writeLogical(out, schema, name, value)) {
            return;
        }
        switch (schema.type()) {
            case INT8 -> out.writeNumber(as(Byte.class, value));
            case INT16 -> out.writeNumber(as(Short.class, value));
            case INT32 -> out.writeNumber(as(Integer.class, value));
            case INT64 -> out.writeNumber(as(Long.class, value));
            case FLOAT32 -> out.writeNumber(as(Float.class, value));
            case FLOAT64 -> out.writeNumber(as(Double.class, value));
            case BOOLEAN -> out.writeBoolean(as(Boolean.class, value));
            case STRING -> out.writeString(as(CharSequence.class, value).toString());
            case BYTES -> out.writeBinary(as(byte[].class, value));
            case ARRAY -> {
                out.writeStartArray();
                for (Object element : as(Collection.class, value)) {
                    write(out, schema.valueSchema(), element);
                }
                out.writeEndArray();
            }
            case MAP -> {
                if (schema.keySchema().type() != Schema.Type.STRING) {
                    throw UNWRITABLE;
                }
                out.writeStartObject();
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) as(Map.class, value)).entrySet()) {
                    if (!(entry.getKey() instanceof CharSequence key)) {
                        throw UNWRITABLE;
                    }
                    out.writeFieldName(key.toString());
                    write(out, schema.valueSchema(), entry.getValue());
                }
                out.writeEndObject();
            }
            case STRUCT -> {
                Struct struct = as(Struct.class, value);
                if (!struct.schema().equals(schema)) {
                    throw UNWRITABLE;
                }
                out.writeStartObject();
                for (Field field : schema.fields()) {
                    out.writeFieldName(field.name());
                    write(out, field.schema(), rawOrDefault(struct, field));
                }
                out.writeEndObject();
            }
            default -> throw UNWRITABLE;
        }
    }

    /**
     * The field's value as JsonConverter reads it (without its default), except where that default would replace
     * a null anyway: then by index, rather than by a lookup of the field's name.
     */
    private Object rawOrDefault(Struct struct, Field field) {
        return replaceNullWithDefault || field.schema().defaultValue() == null
                ? struct.get(field) : struct.getWithoutDefault(field.name());
    }

    /** JsonConverter's logical types; false for any other schema name. */
    private boolean writeLogical(JsonGenerator out, Schema schema, String name, Object value)
            throws Unwritable, IOException {
        switch (name) {
            case Decimal.LOGICAL_NAME -> {
                BigDecimal decimal = as(BigDecimal.class, value);
                if (decimalsAsNumbers) {
                    out.writeNumber(decimal);
                } else {
                    out.writeBinary(Decimal.fromLogical(schema, decimal));
                }
            }
            case Date.LOGICAL_NAME -> out.writeNumber(Date.fromLogical(schema, as(java.util.Date.class, value)));
            case Time.LOGICAL_NAME -> out.writeNumber(Time.fromLogical(schema, as(java.util.Date.class, value)));
            case Timestamp.LOGICAL_NAME -> out.writeNumber(Timestamp.fromLogical(schema, as(java.util.Date.class, value)));
            default -> {
                return false;
            }
        }
        return true;
    }

    private static <T> T as(Class<T> type, Object value) throws Unwritable {
        if (!type.isInstance(value)) {
            throw UNWRITABLE;
        }
        return type.cast(value);
    }
}
