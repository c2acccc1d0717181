package io.pgcdc.sink;

import java.util.Map;

/** Resolves {@code table.name.format} for a record. */
final class TableNames {

    private final String format;

    TableNames(String format) {
        this.format = format;
    }

    TableRef resolve(String topic, Map<String, Object> source) {
        String schema = source == null ? null : asString(source.get("schema"));
        String table = source == null ? null : asString(source.get("table"));
        if (schema == null || table == null) {
            String[] segments = topic.split("\\.");
            table = segments[segments.length - 1];
            schema = segments.length >= 2 ? segments[segments.length - 2] : "public";
        }
        return TableRef.parse(format.replace("${topic}", topic).replace("${source.schema}", schema)
                .replace("${source.table}", table));
    }

    private static String asString(Object value) {
        return value == null ? null : value.toString();
    }
}
