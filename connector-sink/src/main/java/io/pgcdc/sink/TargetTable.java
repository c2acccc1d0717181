package io.pgcdc.sink;

import java.util.List;
import java.util.Map;

/**
 * A target table as its catalog describes it: columns with their SQL types, the conflict key, and
 * whether it is partitioned (such a table cannot return system columns from an upsert).
 */
public record TargetTable(TableRef ref, Map<String, Column> columns, List<String> keyColumns, boolean partitioned) {

    /** @param sqlType the type as {@code format_type} prints it, usable in a cast */
    public record Column(String name, String sqlType, String typeName) {

        boolean isJson() {
            return typeName.equals("json") || typeName.equals("jsonb");
        }

        boolean isJsonb() {
            return typeName.equals("jsonb");
        }

        boolean isBytea() {
            return typeName.equals("bytea");
        }

        boolean isBoolean() {
            return typeName.equals("bool");
        }

        boolean isInterval() {
            return typeName.equals("interval");
        }

        boolean isTimestamp() {
            return typeName.equals("timestamptz") || typeName.equals("timestamp");
        }
    }
}
