package io.pgcdc.source;

import java.util.List;

import org.apache.kafka.connect.data.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.source.schema.TableSchema;

/**
 * Values sent as null because their column's Connect type cannot hold them (NaN in a numeric read as a
 * Decimal): the record still goes out, so one such value does not stop the stream at every restart, and each
 * one is logged with its table, key and column, the way to carry it, and counted.
 */
final class UnconvertibleValues {

    private static final Logger log = LoggerFactory.getLogger(UnconvertibleValues.class);

    private UnconvertibleValues() {
    }

    /** Logs and counts {@code problems}, one row's, and empties the list for the next row. */
    static void report(TableSchema table, Struct key, List<String> problems, SourceMetrics metrics) {
        if (problems.isEmpty()) {
            return;
        }
        metrics.unconvertibleValues(problems.size());
        for (String problem : problems) {
            log.warn("Row of {}.{} with key {}: {}; sent as null", table.schemaName(), table.tableName(), key, problem);
        }
        problems.clear();
    }
}
