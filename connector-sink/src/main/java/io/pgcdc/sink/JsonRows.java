package io.pgcdc.sink;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

/** Writes a group of rows as the one JSON-array parameter of a statement, streaming, with no per-row maps. */
final class JsonRows {

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonRows() {
    }

    /** Upsert rows: {@code columns} of each; in source-position mode the guard column carries the position. */
    static String upserts(TargetTable table, List<RowChange> rows, List<String> columns, String positionColumn,
                          String clearedColumn) {
        return write(generator -> {
            for (RowChange row : rows) {
                generator.writeStartObject();
                for (String column : columns) {
                    generator.writeFieldName(column);
                    if (column.equals(positionColumn)) {
                        writePosition(generator, row);
                    } else if (column.equals(clearedColumn) && !row.columns().containsKey(column)) {
                        // Alive again: false for a boolean flag, null for a deletion time.
                        if (table.columns().get(column).isBoolean()) {
                            generator.writeBoolean(false);
                        } else {
                            generator.writeNull();
                        }
                    } else {
                        writeValue(generator, table.columns().get(column), row.columns().get(column));
                    }
                }
                generator.writeEndObject();
            }
        });
    }

    /** Delete rows: the key, the commit time and the source position. */
    static String deletes(TargetTable table, List<RowChange> rows) {
        return write(generator -> {
            for (RowChange row : rows) {
                generator.writeStartObject();
                for (String column : table.keyColumns()) {
                    generator.writeFieldName(column);
                    writeValue(generator, table.columns().get(column), row.columns().get(column));
                }
                generator.writeFieldName(PgDialect.COMMIT_TIME_FIELD);
                if (row.commitMicros() == null) {
                    generator.writeNull();
                } else {
                    long micros = row.commitMicros();
                    generator.writeString(DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(
                            Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)));
                }
                generator.writeFieldName(PgDialect.POSITION_FIELD);
                writePosition(generator, row);
                generator.writeEndObject();
            }
        });
    }

    private interface Body {
        void write(JsonGenerator generator) throws IOException;
    }

    private static String write(Body body) {
        StringWriter out = new StringWriter(4096);
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            generator.writeStartArray();
            body.write(generator);
            generator.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void writePosition(JsonGenerator generator, RowChange row) throws IOException {
        if (row.position() == null) {
            generator.writeNull();
        } else {
            generator.writeNumber(row.position());
        }
    }

    static void writeValue(JsonGenerator generator, TargetTable.Column column, Object value) throws IOException {
        if (value == null) {
            generator.writeNull();
        } else if (value instanceof RawJson json) {
            if (column.isJson()) {
                generator.writeRawValue(json.text());
            } else {
                generator.writeString(json.text());
            }
        } else if (value instanceof DurationMicros d) {
            if (column.isInterval()) {
                generator.writeString(d.micros() + " microseconds");
            } else {
                generator.writeNumber(d.micros());
            }
        } else if (value instanceof String s) {
            if (column.isJson()) {
                generator.writeRawValue(s); // JSON documents arrive as text from schemaless and Debezium records
            } else if (column.isBytea() && !s.startsWith("\\x")) {
                generator.writeString("\\x" + HexFormat.of().formatHex(Base64.getDecoder().decode(s)));
            } else {
                generator.writeString(s);
            }
        } else if (value instanceof BigDecimal d) {
            generator.writeNumber(d);
        } else if (value instanceof BigInteger i) {
            generator.writeNumber(i);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isFinite(d)) {
                generator.writeNumber(d);
            } else {
                generator.writeString(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            }
        } else if (value instanceof Number n) {
            generator.writeNumber(n.longValue());
        } else if (value instanceof Boolean b) {
            generator.writeBoolean(b);
        } else if (value instanceof List<?> || value instanceof Map<?, ?>) {
            writeNested(generator, value);
        } else {
            generator.writeString(value.toString());
        }
    }

    /** Inside an array or object values are plain JSON: an array column's elements, a document's members. */
    private static void writeNested(JsonGenerator generator, Object value) throws IOException {
        if (value instanceof List<?> list) {
            generator.writeStartArray();
            for (Object element : list) {
                writeNested(generator, element);
            }
            generator.writeEndArray();
        } else if (value instanceof Map<?, ?> map) {
            generator.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                generator.writeFieldName(String.valueOf(e.getKey()));
                writeNested(generator, e.getValue());
            }
            generator.writeEndObject();
        } else if (value instanceof RawJson json) {
            generator.writeRawValue(json.text());
        } else if (value instanceof String s) {
            generator.writeString(s);
        } else if (value == null) {
            generator.writeNull();
        } else {
            writeValue(generator, PLAIN, value);
        }
    }

    private static final TargetTable.Column PLAIN = new TargetTable.Column("", "text", "text");
}
