package io.pgcdc.cutover;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;

/**
 * Compares a replicated database with its source: per source table, the row count and an
 * order-independent checksum over the source's columns, computed on each server (a row never
 * leaves its database). Each side is read in one snapshot; both sides are read at the same time.
 * Rows that change meanwhile on the source are what the target has not received yet: the
 * verdict is meaningful for a cutover once the source's writes have stopped.
 */
public final class ReplicaComparison {

    /**
     * @param tables  which source tables to compare, by 'schema.table'
     * @param slot    the source connector's replication slot whose lag to report, or null
     */
    public record Options(String sourceUrl, String targetUrl, Predicate<TableName> tables, TableNameFormat format,
                          String slot) { }

    /** A table to compare: its source columns and where the sink put it. */
    private record Plan(TableName source, TableName target, List<Column> columns, List<String> missingColumns,
                        boolean targetExists) { }

    /** One side's figures for one table: a checksum or the database's message. */
    private record Read(Checksum checksum, String failure) { }

    private final Options options;

    public ReplicaComparison(Options options) {
        this.options = options;
    }

    /** Compares all tables once; an IllegalArgumentException when there is nothing to compare or no such slot. */
    public Report run() throws SQLException {
        try (Connection source = Session.open(options.sourceUrl()); Connection target = Session.open(options.targetUrl())) {
            List<Plan> plans = plan(source, target);
            CompletableFuture<List<Read>> targetReads = CompletableFuture.supplyAsync(() -> {
                try {
                    return read(target, plans, true);
                } catch (SQLException e) {
                    throw new CompletionException(e); // a lost connection
                }
            });
            List<Read> sourceReads = read(source, plans, false);
            List<Read> targetSide;
            try {
                targetSide = targetReads.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof SQLException sql) {
                    throw sql;
                }
                throw e;
            }
            List<TableResult> results = new ArrayList<>();
            for (int i = 0; i < plans.size(); i++) {
                Plan plan = plans.get(i);
                Read s = sourceReads.get(i);
                Read t = targetSide.get(i);
                String failure = s.failure() != null ? "source: " + s.failure() : t.failure() != null ? "target: " + t.failure() : null;
                results.add(new TableResult(plan.source(), plan.target(), s.checksum(), t.checksum(), plan.missingColumns(),
                        failure));
            }
            SlotLag lag = options.slot() == null ? null : SlotLag.read(source, options.slot());
            return new Report(results, lag);
        }
    }

    private List<Plan> plan(Connection source, Connection target) throws SQLException {
        List<TableName> tables = Catalog.sourceTables(source, options.tables());
        if (tables.isEmpty()) {
            throw new IllegalArgumentException("No table of the source database matches the table list");
        }
        List<Plan> plans = new ArrayList<>();
        for (TableName table : tables) {
            TableName mapped = options.format().target(table);
            List<Column> columns = Catalog.sourceColumns(source, table);
            Set<String> targetColumns = Catalog.targetColumns(target, mapped);
            List<String> missing = new ArrayList<>();
            List<Column> common = new ArrayList<>();
            for (Column column : columns) {
                if (targetColumns == null || targetColumns.contains(column.name())) {
                    common.add(column);
                } else {
                    missing.add(column.name());
                }
            }
            plans.add(new Plan(table, mapped, common, missing, targetColumns != null));
        }
        return plans;
    }

    /** Each table's checksum on one side; a table that cannot be read (say, a value that will not cast) fails alone. */
    private static List<Read> read(Connection connection, List<Plan> plans, boolean targetSide) throws SQLException {
        List<Read> reads = new ArrayList<>();
        for (Plan plan : plans) {
            if (targetSide && !plan.targetExists()) {
                reads.add(new Read(null, null));
                continue;
            }
            Savepoint before = connection.setSavepoint();
            try {
                reads.add(new Read(TableChecksum.compute(connection, targetSide ? plan.target() : plan.source(),
                        plan.columns()), null));
                connection.releaseSavepoint(before);
            } catch (SQLException e) {
                connection.rollback(before);
                reads.add(new Read(null, e.getMessage()));
            }
        }
        return reads;
    }
}
