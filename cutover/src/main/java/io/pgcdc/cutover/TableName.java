package io.pgcdc.cutover;

/** A table by its unquoted schema and name. */
public record TableName(String schema, String table) {

    /** Parses 'schema.table' (split at the first dot, as the sink does) or 'table' (in public). */
    public static TableName parse(String name) {
        int dot = name.indexOf('.');
        if (dot <= 0 || dot == name.length() - 1) {
            return new TableName("public", name);
        }
        return new TableName(name.substring(0, dot), name.substring(dot + 1));
    }

    public String quoted() {
        return quote(schema) + "." + quote(table);
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }
}
