package io.pgcdc.sink;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Reads the four accepted record shapes into {@link RowChange}s: this project's source
 * envelope, Debezium's PostgreSQL envelope, flat Struct rows and schemaless JSON maps. An
 * envelope (with or without schema) is recognised by its {@code op} and {@code before} or
 * {@code after} fields; anything else is a row to upsert. Each may come as the worker's
 * converter made it (Struct or map) or as JsonConverter's bytes, which {@link JsonRecordReader} reads.
 */
final class RecordParser {

    /** The envelope fields this parser reads; others may be left out of an envelope's fields. */
    static final Set<String> ENVELOPE_FIELDS = Set.of("op", "before", "after", "source");
    /** The source block fields this parser (and {@link TableNames}) reads. */
    static final Set<String> SOURCE_FIELDS = Set.of("schema", "table", "lsn", "ts_us", "ts_ms", "unchanged_toast",
            "connector");

    /** Debezium's headers on the two halves of a key change (see KeyMoves); this project's source sets them too. */
    static final String NEW_KEY_HEADER = "__debezium.newkey";
    static final String OLD_KEY_HEADER = "__debezium.oldkey";

    private final TableNames tableNames;
    private final JsonRecordReader jsonValues = new JsonRecordReader();
    /** A key's schema differs from its value's: each has its own reader, so neither pushes out the other's. */
    private final JsonRecordReader jsonKeys = new JsonRecordReader();
    private final JsonRecordReader jsonHeaders = new JsonRecordReader();

    RecordParser(String tableNameFormat) {
        this.tableNames = new TableNames(tableNameFormat);
    }

    /** Null for records that change nothing: tombstones and truncates. */
    RowChange parse(SinkRecord record) {
        try {
            return read(record);
        } catch (DataException e) {
            throw e;
        } catch (RuntimeException e) {
            // A value that does not match what its schema (name) promises, e.g. text under a numeric semantic type.
            throw new DataException("Record " + where(record) + " cannot be read: " + e, e);
        }
    }

    private RowChange read(SinkRecord record) {
        JsonRecordReader.Value value = value(record);
        if (value == null) {
            return null;
        }
        Map<String, Object> fields = value.fields();
        boolean envelope = fields.containsKey("op") && (fields.containsKey("after") || fields.containsKey("before"));
        if (!envelope) {
            return new RowChange(tableNames.resolve(record.topic(), null), RowChange.Op.UPSERT, fields, value.schema(), null,
                    null, record, RowChange.shapeOf(value.schema(), fields));
        }
        Schema schema = value.schema() == null ? null : rowSchema(value.schema());
        Object op = fields.get("op");
        @SuppressWarnings("unchecked")
        Map<String, Object> source = fields.get("source") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
        TableRef table = tableNames.resolve(record.topic(), source);
        Long position = "r".equals(op) ? null : position(source, record);
        Long commitMicros = commitMicros(source);
        switch (String.valueOf(op)) {
            case "c":
            case "r":
            case "u": {
                Map<String, Object> after = row(fields.get("after"), source, record, "after");
                return new RowChange(table, RowChange.Op.UPSERT, after, schema, position, commitMicros, record,
                        RowChange.shapeOf(schema, after), headerKey(record, OLD_KEY_HEADER));
            }
            case "d": {
                Map<String, Object> identity = new LinkedHashMap<>(keyFields(record));
                Object before = fields.get("before");
                if (before != null) {
                    row(before, null, record, "before").forEach((k, v) -> {
                        if (v != null) {
                            identity.putIfAbsent(k, v);
                        }
                    });
                }
                return new RowChange(table, RowChange.Op.DELETE, identity, schema, position, commitMicros, record, null,
                        headerKey(record, NEW_KEY_HEADER));
            }
            case "t":
                return null;
            default:
                throw new DataException("Record " + where(record) + " has op '" + op + "'; expected c, r, u, d or t");
        }
    }

    /**
     * The value's schema and fields. A value arriving as bytes is JsonConverter's JSON, read here
     * (value.converter=ByteArrayConverter), so that the worker does not build a Struct of every record.
     */
    private JsonRecordReader.Value value(SinkRecord record) {
        Object value = record.value();
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] json) {
            return readJson(jsonValues, record, json);
        }
        Schema schema = value instanceof Struct struct ? struct.schema() : null;
        return new JsonRecordReader.Value(schema, fields(record.valueSchema(), value, record));
    }

    private static JsonRecordReader.Value readJson(JsonRecordReader reader, SinkRecord record, byte[] json) {
        try {
            return reader.read(record.topic(), json, (schema, value) -> fields(schema, value, record));
        } catch (DataException e) {
            if (e.getMessage() != null && e.getMessage().contains(where(record))) {
                throw e;
            }
            throw new DataException("Record " + where(record) + " is not JsonConverter's JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The row with unchanged TOAST columns left out: unknown, not null. This project's source names them in the
     * source block; Debezium's puts its placeholder in their place.
     */
    private static Map<String, Object> row(Object value, Map<String, Object> source, SinkRecord record, String which) {
        if (!(value instanceof Map<?, ?>)) {
            throw new DataException("Record " + where(record) + " is an envelope without a usable '" + which + "' row");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> row = (Map<String, Object>) value;
        Object unchanged = source == null ? null : source.get("unchanged_toast");
        if (unchanged instanceof List<?> names && !names.isEmpty()) {
            row = new LinkedHashMap<>(row);
            for (Object name : names) {
                row.remove(String.valueOf(name));
            }
        } else if (UnavailableValue.fromDebezium(source) && UnavailableValue.anyIn(row)) {
            row = new LinkedHashMap<>(row);
            row.values().removeIf(UnavailableValue::is);
        }
        return row;
    }

    /** The key a header holds, as the worker's header converter gave it: a Struct or map, or JSON as text or bytes. */
    private Map<String, Object> headerKey(SinkRecord record, String name) {
        Header header = record.headers().lastWithName(name);
        if (header == null || header.value() == null) {
            return null;
        }
        Object value = header.value() instanceof String text ? text.getBytes(StandardCharsets.UTF_8) : header.value();
        try {
            if (value instanceof byte[] json) {
                JsonRecordReader.Value key = readJson(jsonHeaders, record, json);
                return key == null ? null : key.fields();
            }
            return fields(header.schema(), value, record);
        } catch (DataException e) {
            throw new DataException("Record " + where(record) + " has a header " + name + " that is not a key: "
                    + e.getMessage(), e);
        }
    }

    /** An envelope's before and after rows share one schema; an envelope may declare only one of them. */
    private static Schema rowSchema(Schema envelope) {
        Field after = envelope.field("after");
        return (after != null ? after : envelope.field("before")).schema();
    }

    private Map<String, Object> keyFields(SinkRecord record) {
        if (record.key() == null) {
            return Map.of();
        }
        if (record.key() instanceof byte[] json) {
            JsonRecordReader.Value key = readJson(jsonKeys, record, json);
            return key == null ? Map.of() : key.fields();
        }
        return fields(record.keySchema(), record.key(), record);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fields(Schema schema, Object value, SinkRecord record) {
        if (value instanceof Struct struct) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Field field : struct.schema().fields()) {
                Object v = struct.get(field);
                out.put(field.name(), v instanceof Struct nested && isRow(field)
                        ? fields(field.schema(), nested, record) : JsonValues.of(field.schema(), v));
            }
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), JsonValues.of(null, v)));
            return out;
        }
        throw new DataException("Record " + where(record) + " is neither a Struct nor a JSON object but "
                + value.getClass().getSimpleName() + (schema == null ? "" : " (schema type " + schema.type() + ")"));
    }

    /** Envelope parts stay maps of their fields (not JSON values) so they can be read as rows. */
    static boolean isRow(Field field) {
        return switch (field.name()) {
            case "before", "after", "source" -> true;
            default -> false;
        };
    }

    /**
     * The change's own WAL position ({@code source.lsn}, which this project's source and Debezium's both send), by
     * which the changes of one key are ordered: a transaction that writes a key holds its row lock (an insert waits
     * on the key's index entry) until it commits, so a later transaction's change of that key is written to the WAL
     * after the earlier one's commit, and one transaction's changes are written in order. A snapshot row ({@code r})
     * has none: transactions in flight when it was read commit after it, yet their changes were written before.
     */
    static Long position(Map<String, Object> source, SinkRecord record) {
        if (source == null || !(source.get("lsn") instanceof Number lsn)) {
            return null;
        }
        long position = lsn.longValue();
        if (position < 0) {
            throw new DataException("Record " + where(record) + " has source.lsn " + Long.toUnsignedString(position)
                    + ", past 2^63: no server has written that much WAL");
        }
        return position;
    }

    private static Long commitMicros(Map<String, Object> source) {
        if (source == null) {
            return null;
        }
        if (source.get("ts_us") instanceof Number us) {
            return us.longValue();
        }
        return source.get("ts_ms") instanceof Number ms ? ms.longValue() * 1000 : null;
    }

    static String where(SinkRecord record) {
        return "at " + record.topic() + "-" + record.kafkaPartition() + "@" + record.kafkaOffset();
    }
}
