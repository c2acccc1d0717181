package io.pgcdc.cutover;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One table compared: its row counts and checksums on both sides, or why they could not be compared.
 *
 * @param target          null when the target table does not exist
 * @param missingColumns  source columns the target table lacks (the checksums cover the others)
 * @param failure         the database's message when a side could not be read, else null
 */
public record TableResult(TableName sourceTable, TableName targetTable, Checksum source, Checksum target,
                          List<String> missingColumns, String failure) {

    public enum Outcome { EQUAL, DIFFERS, MISSING, FAILED }

    public Outcome outcome() {
        if (failure != null) {
            return Outcome.FAILED;
        }
        if (target == null) {
            return Outcome.MISSING;
        }
        return source.equals(target) && missingColumns.isEmpty() ? Outcome.EQUAL : Outcome.DIFFERS;
    }

    public String name() {
        return sourceTable.equals(targetTable) ? sourceTable.toString() : sourceTable + " -> " + targetTable;
    }

    /** One line of the report: what was compared and, when it differs, how. */
    public String line() {
        Outcome outcome = outcome();
        String head = String.format("%-8s %s: ", outcome.name().toLowerCase(), name());
        return head + switch (outcome) {
            case EQUAL -> String.format("%,d rows, checksum %s", source.rows(), source.hex());
            case DIFFERS -> (missingColumns.isEmpty() ? "" : "the target lacks columns "
                    + missingColumns.stream().map(TableName::quote).collect(Collectors.joining(", ")) + "; ")
                    + String.format("rows %,d / %,d, checksum %s / %s (source / target)",
                            source.rows(), target.rows(), source.hex(), target.hex());
            case MISSING -> String.format("%,d rows on the source, no such table on the target", source.rows());
            case FAILED -> "cannot compare: " + failure;
        };
    }
}
