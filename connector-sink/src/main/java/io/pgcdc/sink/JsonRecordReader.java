package io.pgcdc.sink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads record values that arrive as JsonConverter's bytes ({@code value.converter=ByteArrayConverter}).
 * JsonConverter would build a tree of the whole record, schema included, and then a Struct of it, for
 * every record; here a topic's schema is learnt once, through JsonConverter itself, and later records
 * whose schema bytes are the same are streamed straight into the fields {@link RecordParser} reads.
 * Anything unexpected in a record (a value not of its schema's type, a missing required field) sends
 * that record through JsonConverter, so its result and its errors are JsonConverter's.
 */
final class JsonRecordReader {

    /** A record value read: its Connect schema (null when schemaless) and its fields as {@link RecordParser} keeps them. */
    record Value(Schema schema, Map<String, Object> fields) { }

    /** Reads a Connect value (Struct or Map) into fields: {@link RecordParser}'s own way. */
    interface FieldsOf {
        Map<String, Object> read(Schema schema, Object value);
    }

    /** How JsonConverter serializes an envelope: no whitespace, the schema first. */
    private static final byte[] SCHEMA_PREFIX = "{\"schema\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_INFIX = ",\"payload\":".getBytes(StandardCharsets.UTF_8);

    private static final byte[] SCHEMA_NAME = "\"schema\"".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_NAME = "\"payload\"".getBytes(StandardCharsets.UTF_8);

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A record whose value the streaming read does not take as its schema says: JsonConverter reads it instead. */
    private static final class NotStreamable extends Exception {
        NotStreamable() {
            super(null, null, false, false);
        }
    }

    private static final NotStreamable NOT_STREAMABLE = new NotStreamable();

    /**
     * The schema last seen on a topic, as its serialized bytes and as JsonConverter read it, with how its
     * records' fields are read.
     */
    private record KnownSchema(byte[] json, Schema schema, StructPlan plan) { }

    /**
     * How the fields of one struct schema are read: the slot each kept field fills (by field index, -1 for
     * those skipped), the schema's field names as the parser matches them, and the plans of an envelope's
     * rows (by field index; null for other fields).
     */
    private record StructPlan(Schema schema, ShapedRow.Shape shape, int[] slotByField, Field[] fieldBySlot,
                              SerializedString[] names, StructPlan[] rows) {

        /** @param kept the fields worth reading; null for all */
        static StructPlan of(Schema schema, Set<String> kept) {
            List<Field> fields = schema.fields();
            int[] slotByField = new int[fields.size()];
            List<Field> keptFields = new ArrayList<>();
            SerializedString[] names = new SerializedString[fields.size()];
            StructPlan[] rows = new StructPlan[fields.size()];
            for (Field field : fields) {
                names[field.index()] = new SerializedString(field.name());
                if (kept != null && !kept.contains(field.name())) {
                    slotByField[field.index()] = -1;
                    continue;
                }
                slotByField[field.index()] = keptFields.size();
                keptFields.add(field);
                if (RecordParser.isRow(field) && field.schema().type() == Schema.Type.STRUCT) {
                    rows[field.index()] = of(field.schema(),
                            kept != null && field.name().equals("source") ? RecordParser.SOURCE_FIELDS : null);
                }
            }
            ShapedRow.Shape shape = new ShapedRow.Shape(keptFields.stream().map(Field::name).toList());
            return new StructPlan(schema, shape, slotByField, keptFields.toArray(new Field[0]), names, rows);
        }
    }

    private final JsonConverter withSchemas = converter(true);
    private final JsonConverter schemaless = converter(false);
    private final Map<String, KnownSchema> lastSchemaByTopic = new HashMap<>();

    private static JsonConverter converter(boolean schemas) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", schemas, "converter.type", "value"));
        return converter;
    }

    /** Null when the record's payload is null (a tombstone, as JsonConverter would read it). */
    Value read(String topic, byte[] json, FieldsOf fieldsOf) {
        KnownSchema known = lastSchemaByTopic.get(topic);
        int payloadStart = known == null ? -1 : payloadStart(json, known.json());
        if (payloadStart >= 0) {
            try {
                return streamed(json, payloadStart, known, fieldsOf);
            } catch (NotStreamable | IOException e) {
                // JsonConverter reads it, and says what is wrong with it
            }
        }
        return converted(topic, json, fieldsOf);
    }

    /** Whether the topic's records are streamed: its schema was learnt from an earlier record. */
    boolean streams(String topic) {
        return lastSchemaByTopic.containsKey(topic);
    }

    /** Where the payload starts, when the record is JsonConverter's envelope with exactly this schema; else -1. */
    private static int payloadStart(byte[] json, byte[] schema) {
        int schemaEnd = SCHEMA_PREFIX.length + schema.length;
        int payloadStart = schemaEnd + PAYLOAD_INFIX.length;
        if (json.length <= payloadStart || json[json.length - 1] != '}'
                || !Arrays.equals(json, 0, SCHEMA_PREFIX.length, SCHEMA_PREFIX, 0, SCHEMA_PREFIX.length)
                || !Arrays.equals(json, SCHEMA_PREFIX.length, schemaEnd, schema, 0, schema.length)
                || !Arrays.equals(json, schemaEnd, payloadStart, PAYLOAD_INFIX, 0, PAYLOAD_INFIX.length)) {
            return -1;
        }
        return payloadStart;
    }

    private Value streamed(byte[] json, int payloadStart, KnownSchema known, FieldsOf fieldsOf)
            throws IOException, NotStreamable {
        Schema schema = known.schema();
        try (JsonParser parser = FACTORY.createParser(json, payloadStart, json.length - 1 - payloadStart)) {
            JsonToken token = parser.nextToken();
            Value value;
            if (token == JsonToken.VALUE_NULL) {
                Object absent = absent(schema);
                value = absent == null ? null : new Value(schema, fieldsOf.read(schema, absent));
            } else if (token == JsonToken.START_OBJECT) {
                value = new Value(schema, fields(parser, known.plan()));
            } else {
                throw NOT_STREAMABLE;
            }
            if (parser.nextToken() != null) {
                throw NOT_STREAMABLE;
            }
            return value;
        }
    }

    private Value converted(String topic, byte[] json, FieldsOf fieldsOf) {
        boolean envelope = isEnvelope(json);
        SchemaAndValue read = (envelope ? withSchemas : schemaless).toConnectData(topic, json);
        if (envelope && read.schema() != null && read.schema().type() == Schema.Type.STRUCT) {
            learn(topic, json, read.schema());
        }
        if (read.value() == null) {
            return null;
        }
        Schema schema = read.value() instanceof Struct struct ? struct.schema() : null;
        return new Value(schema, fieldsOf.read(read.schema(), read.value()));
    }

    /**
     * JsonConverter's test for an envelope: an object of exactly "schema" and "payload". Text that does
     * not name both is schemaless at once; broken JSON goes to JsonConverter for its error.
     */
    private static boolean isEnvelope(byte[] json) {
        if (indexOf(json, SCHEMA_NAME) < 0 || indexOf(json, PAYLOAD_NAME) < 0) {
            return false;
        }
        try {
            JsonNode node = MAPPER.readTree(json);
            return node != null && node.isObject() && node.size() == 2 && node.has("schema") && node.has("payload");
        } catch (IOException e) {
            return true;
        }
    }

    private static int indexOf(byte[] text, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= text.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (text[i + j] != part[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Remembers the schema's bytes when the record is laid out as JsonConverter writes it. */
    private void learn(String topic, byte[] json, Schema schema) {
        try (JsonParser parser = FACTORY.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT || parser.nextToken() != JsonToken.FIELD_NAME
                    || !"schema".equals(parser.currentName()) || parser.nextToken() != JsonToken.START_OBJECT) {
                return;
            }
            int start = (int) parser.currentTokenLocation().getByteOffset();
            parser.skipChildren();
            int end = (int) parser.currentLocation().getByteOffset();
            if (start == SCHEMA_PREFIX.length) {
                byte[] schemaJson = Arrays.copyOfRange(json, start, end);
                if (payloadStart(json, schemaJson) >= 0) {
                    lastSchemaByTopic.put(topic, new KnownSchema(schemaJson, schema,
                            StructPlan.of(schema, isEnvelope(schema) ? RecordParser.ENVELOPE_FIELDS : null)));
                }
            }
        } catch (IOException e) {
            // not JsonConverter's layout: such records keep going through JsonConverter
        }
    }

    /** A schema whose records {@link RecordParser} reads as envelopes (it has op, and before or after). */
    private static boolean isEnvelope(Schema schema) {
        return schema.field("op") != null && (schema.field("after") != null || schema.field("before") != null);
    }

    /** Marks a slot no field of the JSON filled (null is a value). */
    private static final Object UNSET = new Object();

    /**
     * A struct's fields as {@link RecordParser} keeps them: envelope rows as maps, values JSON-ready. Of an
     * envelope and its source block only the fields {@link RecordParser} reads are kept (see {@link StructPlan}):
     * the others are skipped unread.
     */
    private ShapedRow fields(JsonParser parser, StructPlan plan) throws IOException, NotStreamable {
        List<Field> schemaFields = plan.schema().fields();
        int fieldCount = schemaFields.size();
        Object[] values = new Object[plan.shape().size()];
        Arrays.fill(values, UNSET);
        int filled = 0;
        int position = 0;
        JsonToken token;
        while (true) {
            Field field;
            // JsonConverter writes a struct's fields in schema order: the parser is told which name comes next,
            // which it matches without looking the name up.
            if (position < fieldCount && parser.nextFieldName(plan.names()[position])) {
                field = schemaFields.get(position);
            } else {
                token = position < fieldCount ? parser.currentToken() : parser.nextToken();
                if (token != JsonToken.FIELD_NAME) {
                    break;
                }
                field = plan.schema().field(parser.currentName());
            }
            position++;
            JsonToken valueToken = parser.nextToken();
            int slot = field == null ? -1 : plan.slotByField()[field.index()];
            if (slot < 0) {
                parser.skipChildren(); // JsonConverter too ignores fields its schema does not have
                continue;
            }
            StructPlan row = plan.rows()[field.index()];
            Object value = valueToken == JsonToken.START_OBJECT && row != null ? fields(parser, row)
                    : JsonValues.of(field.schema(), value(parser, valueToken, field.schema()));
            if (values[slot] == UNSET) {
                filled++;
            }
            values[slot] = value;
        }
        if (token != JsonToken.END_OBJECT) {
            throw NOT_STREAMABLE;
        }
        if (filled < values.length) {
            for (int slot = 0; slot < values.length; slot++) {
                if (values[slot] == UNSET) {
                    Schema schema = plan.fieldBySlot()[slot].schema();
                    values[slot] = JsonValues.of(schema, absent(schema));
                }
            }
        }
        return new ShapedRow(plan.shape(), values);
    }

    /** JsonConverter writes a struct's fields in schema order: the field at the position is tried before a lookup. */
    private static Field field(Schema schema, String name, int position) {
        List<Field> fields = schema.fields();
        if (position < fields.size() && fields.get(position).name().equals(name)) {
            return fields.get(position);
        }
        return schema.field(name);
    }

    /** The value of a field the JSON leaves null or out: its default, or null when it is optional. */
    private static Object absent(Schema schema) throws NotStreamable {
        if (schema.defaultValue() != null) {
            return schema.defaultValue();
        }
        if (!schema.isOptional()) {
            throw NOT_STREAMABLE;
        }
        return null;
    }

    /** The Connect value JsonConverter would make of the JSON value at the parser's current token. */
    private static Object value(JsonParser parser, JsonToken token, Schema schema) throws IOException, NotStreamable {
        if (token == JsonToken.VALUE_NULL) {
            return absent(schema);
        }
        String name = schema.name();
        switch (schema.type()) {
            case BOOLEAN:
                if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
                    return token == JsonToken.VALUE_TRUE;
                }
                break;
            case INT8:
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    return (byte) parser.getIntValue();
                }
                break;
            case INT16:
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    return (short) parser.getIntValue();
                }
                break;
            case INT32:
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    int i = parser.getIntValue();
                    return Date.LOGICAL_NAME.equals(name) ? Date.toLogical(schema, i)
                            : Time.LOGICAL_NAME.equals(name) ? Time.toLogical(schema, i) : (Object) i;
                }
                break;
            case INT64:
                if (token == JsonToken.VALUE_NUMBER_INT) {
                    long l = parser.getLongValue();
                    return Timestamp.LOGICAL_NAME.equals(name) ? Timestamp.toLogical(schema, l) : (Object) l;
                }
                break;
            case FLOAT32:
                if (token.isNumeric()) {
                    return parser.getFloatValue();
                }
                break;
            case FLOAT64:
                if (token.isNumeric()) {
                    return parser.getDoubleValue();
                }
                break;
            case STRING:
                if (token == JsonToken.VALUE_STRING) {
                    return parser.getText();
                }
                break;
            case BYTES:
                if (Decimal.LOGICAL_NAME.equals(name) && token.isNumeric()) {
                    return parser.getDecimalValue();
                }
                if (token == JsonToken.VALUE_STRING) {
                    byte[] bytes = parser.getBinaryValue();
                    return Decimal.LOGICAL_NAME.equals(name) ? Decimal.toLogical(schema, bytes) : bytes;
                }
                break;
            case ARRAY:
                if (token == JsonToken.START_ARRAY) {
                    List<Object> list = new ArrayList<>();
                    while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                        list.add(value(parser, token, schema.valueSchema()));
                    }
                    return list;
                }
                break;
            case STRUCT:
                if (token == JsonToken.START_OBJECT) {
                    Struct struct = new Struct(schema);
                    int position = 0;
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        Field field = field(schema, parser.currentName(), position++);
                        token = parser.nextToken();
                        if (field == null) {
                            parser.skipChildren();
                        } else {
                            struct.put(field, value(parser, token, field.schema()));
                        }
                    }
                    for (Field field : schema.fields()) {
                        if (struct.get(field) == null) {
                            absent(field.schema());
                        }
                    }
                    return struct;
                }
                break;
            default:
                break; // maps: JsonConverter reads them
        }
        throw NOT_STREAMABLE;
    }
}
