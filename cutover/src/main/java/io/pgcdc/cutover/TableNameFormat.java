package io.pgcdc.cutover;

/**
 * Where the sink put a source table: the sink's {@code table.name.format}, with the placeholders
 * that come from the source table itself. {@code ${topic}} is refused, since the topic's name
 * depends on the source connector's settings, which this check does not know.
 */
public final class TableNameFormat {

    public static final String SAME_NAME = "${source.schema}.${source.table}";

    private final String format;

    public TableNameFormat(String format) {
        if (format.contains("${topic}")) {
            throw new IllegalArgumentException("The table format " + format + " uses ${topic}: name the target tables "
                    + "with ${source.schema} and ${source.table} only");
        }
        if (format.isBlank()) {
            throw new IllegalArgumentException("The table format is empty");
        }
        this.format = format;
    }

    public TableName target(TableName source) {
        return TableName.parse(format.replace("${source.schema}", source.schema()).replace("${source.table}", source.table()));
    }
}
