package io.pgcdc.source;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.json.JsonConverterConfig;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.ConverterConfig;
import org.apache.kafka.connect.storage.ConverterType;

/**
 * Writes exactly JsonConverter's bytes, schemas on, at a fraction of its cost. JsonConverter serializes a
 * record's whole schema again for every record: for a change event (before, after, source) that is about three
 * quarters of its time and of the task thread's. Here each schema's JSON is cut once out of JsonConverter's own
 * output for the first record of that schema, and later records get their payload written straight after those
 * bytes by {@link JsonPayloadWriter}, as JsonConverter (schemas off) would write it but without building a tree
 * of it first; a payload that writer declines is JsonConverter's. Reading, and anything that is not a record
 * with a schema, is JsonConverter's own.
 */
public final class SchemaCachingJsonConverter implements Converter, Versioned {

    private static final byte[] HEAD = "{\"schema\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_FIELD = ",\"payload\":".getBytes(StandardCharsets.UTF_8);
    /** Remembered for a schema whose JSON could not be cut out: its records go through JsonConverter whole. */
    private static final byte[] NOT_CACHED = new byte[0];

    private final JsonConverter enveloped = new JsonConverter();
    private final JsonConverter payloads = new JsonConverter();
    private JsonPayloadWriter writer;
    private boolean schemasEnabled;
    private Map<Schema, byte[]> schemaJson;

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Map<String, Object> typed = new HashMap<>(configs);
        typed.put(ConverterConfig.TYPE_CONFIG, (isKey ? ConverterType.KEY : ConverterType.VALUE).getName());
        JsonConverterConfig config = new JsonConverterConfig(typed);
        schemasEnabled = config.schemasEnabled();
        writer = new JsonPayloadWriter(config.decimalFormat(), config.replaceNullWithDefault());
        int capacity = config.schemaCacheSize();
        schemaJson = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Schema, byte[]> eldest) {
                return size() > capacity;
            }
        });
        enveloped.configure(configs, isKey);
        Map<String, Object> bare = new HashMap<>(configs);
        bare.put(JsonConverterConfig.SCHEMAS_ENABLE_CONFIG, false);
        payloads.configure(bare, isKey);
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        if (!schemasEnabled || schema == null) {
            return enveloped.fromConnectData(topic, schema, value);
        }
        byte[] known = schemaJson.get(schema);
        if (known == null) {
            return learn(topic, schema, value);
        }
        if (known == NOT_CACHED) {
            return enveloped.fromConnectData(topic, schema, value);
        }
        return written(known, topic, schema, value);
    }

    private byte[] written(byte[] schemaBytes, String topic, Schema schema, Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(HEAD.length + schemaBytes.length + PAYLOAD_FIELD.length + 512);
        out.writeBytes(HEAD);
        out.writeBytes(schemaBytes);
        out.writeBytes(PAYLOAD_FIELD);
        try {
            writer.write(schema, value, out);
        } catch (JsonPayloadWriter.Unwritable | IOException | RuntimeException e) {
            return envelope(schemaBytes, payloads.fromConnectData(topic, schema, value));
        }
        out.write('}');
        return out.toByteArray();
    }

    /** Converts the first record of a schema the JsonConverter way and keeps the schema's part of the result. */
    private byte[] learn(String topic, Schema schema, Object value) {
        byte[] whole = enveloped.fromConnectData(topic, schema, value);
        byte[] payload = payloads.fromConnectData(topic, schema, value);
        int schemaEnd = whole.length - 1 - payload.length - PAYLOAD_FIELD.length;
        boolean layoutAsExpected = schemaEnd > HEAD.length
                && Arrays.equals(whole, 0, HEAD.length, HEAD, 0, HEAD.length)
                && Arrays.equals(whole, schemaEnd, schemaEnd + PAYLOAD_FIELD.length, PAYLOAD_FIELD, 0, PAYLOAD_FIELD.length)
                && Arrays.equals(whole, schemaEnd + PAYLOAD_FIELD.length, whole.length - 1, payload, 0, payload.length)
                && whole[whole.length - 1] == '}';
        schemaJson.put(schema, layoutAsExpected ? Arrays.copyOfRange(whole, HEAD.length, schemaEnd) : NOT_CACHED);
        return whole;
    }

    private static byte[] envelope(byte[] schemaBytes, byte[] payload) {
        byte[] out = new byte[HEAD.length + schemaBytes.length + PAYLOAD_FIELD.length + payload.length + 1];
        int at = 0;
        System.arraycopy(HEAD, 0, out, at, HEAD.length);
        at += HEAD.length;
        System.arraycopy(schemaBytes, 0, out, at, schemaBytes.length);
        at += schemaBytes.length;
        System.arraycopy(PAYLOAD_FIELD, 0, out, at, PAYLOAD_FIELD.length);
        at += PAYLOAD_FIELD.length;
        System.arraycopy(payload, 0, out, at, payload.length);
        out[out.length - 1] = '}';
        return out;
    }

    /** Whether records of this schema are being written from its cached JSON. */
    boolean cached(Schema schema) {
        byte[] known = schemaJson.get(schema);
        return known != null && known != NOT_CACHED;
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        return enveloped.toConnectData(topic, value);
    }

    @Override
    public ConfigDef config() {
        return JsonConverterConfig.configDef();
    }

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void close() {
        Utils.closeQuietly(enveloped, "JsonConverter");
        Utils.closeQuietly(payloads, "JsonConverter");
    }
}
