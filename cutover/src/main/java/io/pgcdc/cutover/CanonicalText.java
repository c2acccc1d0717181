package io.pgcdc.cutover;

import java.util.List;
import java.util.StringJoiner;

/**
 * The SQL that turns a row into one canonical text, the same on the source and on a target whose
 * columns the sink created with other types (varchar as text, enums as text, json as jsonb,
 * numeric(p,s) as numeric, ...). Each value is first cast to the source column's built-in type,
 * which undoes such mappings on the target and is a no-op on the source; then a few types whose
 * text varies for equal values are normalised. The session settings that shape text output
 * (time zone, date and interval style, float digits, bytea format) are pinned by {@link Session}.
 */
final class CanonicalText {

    private CanonicalText() {
    }

    /** The canonical text of one column's value, NULL for NULL. */
    static String of(Column column) {
        String value = TableName.quote(column.name());
        String type = column.castType();
        if (type == null) {
            return "CAST(" + value + " AS text)";
        }
        // Qualified, since the grammar reads some bare names with a length: 'character' and 'bit' are char(1) and bit(1).
        String cast = "CAST(" + value + " AS pg_catalog." + TableName.quote(type) + ")";
        return switch (type) {
            // 1.50 and 1.5 are the same number; a target column of another scale prints it differently.
            case "numeric" -> "CAST(pg_catalog.trim_scale(" + cast + ") AS text)";
            // The same instant with another offset prints differently (the source sends it in UTC).
            case "timetz" -> "CAST((" + cast + " AT TIME ZONE 'UTC') AS text)";
            default -> "CAST(" + cast + " AS text)";
        };
    }

    /**
     * The row as one text: a row constructor's output quotes every value and leaves NULLs empty, so
     * NULL, the empty string and any value with commas or quotes all print differently.
     */
    static String row(List<Column> columns) {
        StringJoiner row = new StringJoiner(", ", "CAST(ROW(", ") AS text)");
        columns.forEach(c -> row.add(of(c)));
        return row.toString();
    }

    /**
     * The type to cast a column of built-in type {@code typname} to: json compares as jsonb, whose
     * text does not keep the document's spacing and key order (the sink stores json in jsonb columns).
     */
    static String castType(String typname) {
        return switch (typname) {
            case "json" -> "jsonb";
            case "_json" -> "_jsonb";
            default -> typname;
        };
    }
}
