package io.pgcdc.sink;

import java.util.Map;
import java.util.Objects;

/**
 * Resolves {@code table.name.format} for a record. The format's first dot outside a placeholder
 * separates schema from table, so that names a placeholder brings may contain dots themselves; a
 * format without one resolves to 'schema.table' split at its first dot, or to a table in public.
 */
final class TableNames {

    private final String format;
    /** Index of the format's separating dot, or -1. */
    private final int separator;

    /** The last names resolved, and to what. */
    private record Resolved(String topic, String schema, String table, TableRef ref) { }

    private Resolved last;

    TableNames(String format) {
        this.format = format;
        this.separator = separator(format);
    }

    TableRef resolve(String topic, Map<String, Object> source) {
        String schema = source == null ? null : asString(source.get("schema"));
        String table = source == null ? null : asString(source.get("table"));
        // Records come in runs of one table: a run resolves the format once.
        Resolved last = this.last;
        if (last != null && last.topic().equals(topic) && Objects.equals(last.schema(), schema)
                && Objects.equals(last.table(), table)) {
            return last.ref();
        }
        TableRef ref = substitute(topic, schema, table);
        this.last = new Resolved(topic, schema, table, ref);
        return ref;
    }

    private TableRef substitute(String topic, String schema, String table) {
        if (schema == null || table == null) {
            String[] segments = topic.split("\\.");
            table = segments[segments.length - 1];
            schema = segments.length >= 2 ? segments[segments.length - 2] : "public";
        }
        if (separator < 0) {
            return TableRef.parse(substitute(format, topic, schema, table));
        }
        return new TableRef(substitute(format.substring(0, separator), topic, schema, table),
                substitute(format.substring(separator + 1), topic, schema, table));
    }

    private static String substitute(String part, String topic, String schema, String table) {
        return part.replace("${topic}", topic).replace("${source.schema}", schema).replace("${source.table}", table);
    }

    private static int separator(String format) {
        boolean inPlaceholder = false;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c == '$' && i + 1 < format.length() && format.charAt(i + 1) == '{') {
                inPlaceholder = true;
            } else if (c == '}') {
                inPlaceholder = false;
            } else if (c == '.' && !inPlaceholder && i > 0 && i < format.length() - 1) {
                return i;
            }
        }
        return -1;
    }

    private static String asString(Object value) {
        return value == null ? null : value.toString();
    }
}
