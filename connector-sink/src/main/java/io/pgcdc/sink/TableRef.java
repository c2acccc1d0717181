package io.pgcdc.sink;

/** A target table by its unquoted schema and name. */
public record TableRef(String schema, String table) {

    /** Parses 'schema.table' (split at the first dot) or 'table' (in public). */
    public static TableRef parse(String name) {
        int dot = name.indexOf('.');
        if (dot <= 0 || dot == name.length() - 1) {
            return new TableRef("public", name);
        }
        return new TableRef(name.substring(0, dot), name.substring(dot + 1));
    }

    public String quoted() {
        return PgDialect.quote(schema) + "." + PgDialect.quote(table);
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }
}
