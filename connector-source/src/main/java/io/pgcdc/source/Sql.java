package io.pgcdc.source;

/** SQL text helpers: identifiers are always quoted, never concatenated raw. */
final class Sql {

    private Sql() {
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /** A string literal, for the few statements that take no parameters (SET TRANSACTION SNAPSHOT). */
    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }
}
