package io.pgcdc.sink;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SegmentedStringWriter;
import com.fasterxml.jackson.core.util.BufferRecycler;

/**
 * Writes a group of rows as the parameters of a statement: one JSON array, streamed with no per-row
 * maps, and beside it each document column's texts (see PgDialect).
 */
final class JsonRows {

    /** The JSON rows, and the document columns' texts by column, one per row in row order. */
    record Parameters(String rows, Map<String, String[]> documents) {

        /** Binds the rows, then the texts of {@code documentColumns} in that order (PgDialect.documents). */
        void bind(PreparedStatement ps, List<String> documentColumns) throws SQLException {
            ps.setString(1, rows);
            int index = 2;
            for (String column : documentColumns) {
                // A text[] built this way is sent in binary: the documents' text as it is, with no array literal to parse.
                ps.setArray(index++, ps.getConnection().createArrayOf("text", documents.get(column)));
            }
        }
    }

    private static final JsonFactory FACTORY = new JsonFactory();

    /** PostgreSQL numeric's limits: digits after the point, and before it. */
    private static final int NUMERIC_MAX_SCALE = 16383;
    private static final int NUMERIC_MAX_INTEGER_DIGITS = 131072;

    private JsonRows() {
    }

    /** Upsert rows: {@code columns} of each; in source-position mode the guard column carries the position. */
    static Parameters upserts(TargetTable table, List<RowChange> rows, List<String> columns, String positionColumn,
                              String clearedColumn) {
        int count = columns.size();
        String[] names = columns.toArray(new String[0]);
        TargetTable.Column[] targets = new TargetTable.Column[count];
        Map<String, String[]> documents = documentTexts(table, columns, rows.size());
        String[][] texts = new String[count][];
        int position = -1;
        int cleared = -1;
        for (int i = 0; i < count; i++) {
            targets[i] = table.columns().get(names[i]);
            texts[i] = documents.get(names[i]);
            position = names[i].equals(positionColumn) ? i : position;
            cleared = names[i].equals(clearedColumn) ? i : cleared;
        }
        int positionAt = position;
        int clearedAt = cleared;
        String json = write(generator -> {
            ColumnSlots slots = new ColumnSlots(names);
            int r = 0;
            for (RowChange row : rows) {
                generator.writeStartObject();
                for (int i = 0; i < count; i++) {
                    if (texts[i] != null) {
                        texts[i][r] = documentText(slots.get(row.columns(), i));
                        continue;
                    }
                    generator.writeFieldName(names[i]);
                    if (i == positionAt) {
                        writePosition(generator, row);
                    } else if (i == clearedAt && !slots.has(row.columns(), i)) {
                        // Alive again: false for a boolean flag, null for a deletion time.
                        if (targets[i].isBoolean()) {
                            generator.writeBoolean(false);
                        } else {
                            generator.writeNull();
                        }
                    } else {
                        writeValue(generator, targets[i], slots.get(row.columns(), i));
                    }
                }
                generator.writeEndObject();
                r++;
            }
        });
        return new Parameters(json, documents);
    }

    /**
     * Reads a statement's columns from rows: by slot for rows of one shape, as a group's rows mostly are. Looking
     * each column up by name was a third of the writer thread's time.
     */
    private static final class ColumnSlots {

        private final String[] names;
        private ShapedRow.Shape shape;
        private int[] slots;

        ColumnSlots(String[] names) {
            this.names = names;
        }

        boolean has(Map<String, Object> row, int column) {
            return row instanceof ShapedRow shaped ? slot(shaped, column) >= 0 : row.containsKey(names[column]);
        }

        Object get(Map<String, Object> row, int column) {
            if (row instanceof ShapedRow shaped) {
                int slot = slot(shaped, column);
                return slot < 0 ? null : shaped.valueAt(slot);
            }
            return row.get(names[column]);
        }

        private int slot(ShapedRow row, int column) {
            if (row.shape() != shape) {
                shape = row.shape();
                slots = shape.slotsOf(names);
            }
            return slots[column];
        }
    }

    /** Delete rows: the key, the commit time and the source position. */
    static Parameters deletes(TargetTable table, List<RowChange> rows) {
        Map<String, String[]> documents = documentTexts(table, table.keyColumns(), rows.size());
        String json = write(generator -> {
            int r = 0;
            for (RowChange row : rows) {
                generator.writeStartObject();
                for (String column : table.keyColumns()) {
                    Object value = row.columns().get(column);
                    String[] texts = documents.get(column);
                    if (texts != null) {
                        texts[r] = documentText(value);
                        continue;
                    }
                    generator.writeFieldName(column);
                    writeValue(generator, table.columns().get(column), value);
                }
                writeWhen(generator, row);
                generator.writeEndObject();
                r++;
            }
        });
        return new Parameters(json, documents);
    }

    /** Move rows (see KeyMoves): the old key, the new key under its prefix, the commit time and the source position. */
    static Parameters moves(TargetTable table, List<RowChange> rows) {
        String json = write(generator -> {
            for (RowChange row : rows) {
                generator.writeStartObject();
                for (String column : table.keyColumns()) {
                    TargetTable.Column target = table.columns().get(column);
                    generator.writeFieldName(column);
                    writeValue(generator, target, row.columns().get(column));
                    generator.writeFieldName(KeyMoves.NEW_KEY_PREFIX + column);
                    writeValue(generator, target, row.columns().get(KeyMoves.NEW_KEY_PREFIX + column));
                }
                writeWhen(generator, row);
                generator.writeEndObject();
            }
        });
        return new Parameters(json, Map.of());
    }

    /** The change's commit time and source position, by which deletes and moves are guarded. */
    private static void writeWhen(JsonGenerator generator, RowChange row) throws IOException {
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
    }

    /** Room for the texts of each document column among {@code columns}, in parameter order. */
    private static Map<String, String[]> documentTexts(TargetTable table, List<String> columns, int rows) {
        Map<String, String[]> documents = new LinkedHashMap<>();
        for (String column : PgDialect.documents(table, columns)) {
            documents.put(column, new String[rows]);
        }
        return documents;
    }

    private interface Body {
        void write(JsonGenerator generator) throws IOException;
    }

    private static String write(Body body) {
        // Segments rather than one growing buffer: a 10,000-row parameter is megabytes, and copying it as it
        // grew was a tenth of the writer thread's time.
        SegmentedStringWriter out = new SegmentedStringWriter(new BufferRecycler());
        try {
            try (JsonGenerator generator = FACTORY.createGenerator(out)) {
                generator.writeStartArray();
                body.write(generator);
                generator.writeEndArray();
            }
            return out.getAndClear();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
            generator.writeString(json.text()); // a document going into a column of another type, text say
        } else if (value instanceof DurationMicros d) {
            if (column.isInterval()) {
                generator.writeString(d.micros() + " microseconds");
            } else {
                generator.writeNumber(d.micros());
            }
        } else if (value instanceof String s) {
            if (column.isBytea() && !s.startsWith("\\x")) {
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

    /**
     * A document's JSON text, for a json or jsonb column: as it came, or written from the values a
     * Connect map, array or struct became. Null stays SQL NULL; JSON null is the text {@code null}.
     */
    static String documentText(Object value) {
        if (value == null || value instanceof String) {
            return (String) value;
        }
        if (value instanceof RawJson json) {
            return json.text();
        }
        StringWriter out = new StringWriter();
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            writeNested(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
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

    /**
     * Why {@link #writeValue} cannot write {@code value} into {@code column} faithfully, or null. Checked
     * per row before a statement is built: text PostgreSQL cannot hold or the driver would alter, JSON
     * text that is not exactly one JSON value (its cast would fail the whole statement, naming no row),
     * bytes that are neither hex nor base64.
     */
    static String problem(TargetTable.Column column, Object value) {
        if (value instanceof RawJson json) {
            return column.isJson() ? jsonProblem(json.text(), column.isJsonb()) : textProblem(json.text());
        }
        if (value instanceof String s) {
            if (column.isJson()) {
                return jsonProblem(s, column.isJsonb());
            }
            if (column.isBytea() && !s.startsWith("\\x")) {
                try {
                    Base64.getDecoder().decode(s);
                } catch (IllegalArgumentException e) {
                    return "is neither \\x-prefixed hex nor base64 for a bytea column (" + e.getMessage() + ")";
                }
                return null;
            }
            return textProblem(s);
        }
        return nestedProblem(value, column.isJsonb());
    }

    private static String nestedProblem(Object value, boolean jsonb) {
        if (value instanceof List<?> list) {
            for (Object element : list) {
                String problem = nestedProblem(element, jsonb);
                if (problem != null) {
                    return problem;
                }
            }
        } else if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String problem = textProblem(String.valueOf(e.getKey()));
                if (problem == null) {
                    problem = nestedProblem(e.getValue(), jsonb);
                }
                if (problem != null) {
                    return problem;
                }
            }
        } else if (value instanceof RawJson json) {
            return jsonProblem(json.text(), jsonb);
        } else if (value instanceof String s) {
            return textProblem(s);
        }
        return null;
    }

    /** Text PostgreSQL rejects (NUL) or that the driver's UTF-8 encoding would turn into '?' (a lone surrogate). */
    static String textProblem(String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == 0) {
                return "contains a NUL character (\\u0000) at index " + i + ", which PostgreSQL text cannot hold";
            }
            if (Character.isSurrogate(ch)) {
                if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return "contains a lone surrogate (\\u" + HexFormat.of().toHexDigits(ch) + ") at index " + i
                            + ", which is not valid Unicode";
                }
            }
        }
        return null;
    }

    /**
     * Why jsonb, which stores numbers as PostgreSQL numeric, cannot hold a JSON number, or null. Only an
     * exponent can take a number past numeric's digits (a number's text is at most 1000 characters); such a
     * document would fail the whole parameter, not its own column.
     */
    private static String numericProblem(String number) {
        if (number.indexOf('e') < 0 && number.indexOf('E') < 0) {
            return null;
        }
        BigDecimal value = new BigDecimal(number);
        if (value.scale() > NUMERIC_MAX_SCALE) {
            return "has more than " + NUMERIC_MAX_SCALE + " digits after the decimal point (" + number
                    + "), which jsonb cannot hold";
        }
        if (value.signum() != 0 && (long) value.precision() - value.scale() > NUMERIC_MAX_INTEGER_DIGITS) {
            return "has more than " + NUMERIC_MAX_INTEGER_DIGITS + " digits before the decimal point (" + number
                    + "), which jsonb cannot hold";
        }
        return null;
    }

    /** Whether JSON text is exactly one JSON value whose strings PostgreSQL can hold. */
    private static String jsonProblem(String text, boolean jsonb) {
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                return "is empty, not a JSON document";
            }
            int depth = 0;
            do {
                if (token == JsonToken.VALUE_STRING || token == JsonToken.FIELD_NAME) {
                    String problem = textProblem(parser.getText());
                    if (problem != null) {
                        return "holds JSON text that " + problem;
                    }
                } else if (jsonb && token == JsonToken.VALUE_NUMBER_FLOAT) {
                    String problem = numericProblem(parser.getText());
                    if (problem != null) {
                        return "holds a JSON number that " + problem;
                    }
                }
                depth += token.isStructStart() ? 1 : token.isStructEnd() ? -1 : 0;
                token = depth > 0 ? parser.nextToken() : null;
            } while (token != null);
            return parser.nextToken() == null ? null
                    : "is not one JSON value: text follows the value that ends at character "
                    + parser.currentTokenLocation().getCharOffset();
        } catch (JsonProcessingException e) {
            return "is not valid JSON: " + e.getOriginalMessage();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
    }

    private static final TargetTable.Column PLAIN = new TargetTable.Column("", "text", "text");
}
