package io.pgcdc.sink;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.sink.SinkConfig.DeleteMode;
import io.pgcdc.sink.SinkConfig.GuardMode;

/**
 * Creates missing target tables ({@code auto.create}) and adds the columns records bring
 * ({@code auto.evolve}), from the records' Connect schemas. Each statement commits in its own short
 * transaction before the batch's data transaction, so a data batch rolled back and retried does not
 * undo it; statements say IF NOT EXISTS, so tasks racing on one table all go on.
 */
final class TableDdl {

    private static final Logger log = LoggerFactory.getLogger(TableDdl.class);

    private final SinkConfig config;
    private final TargetCatalog catalog;

    TableDdl(SinkConfig config, TargetCatalog catalog) {
        this.config = config;
        this.catalog = catalog;
    }

    /**
     * Makes the table fit the changes as far as the settings allow. Changes it cannot be made to fit
     * go to {@code reject} and are left out of the result. A DataException: the table exists but
     * cannot be written to at all.
     */
    List<RowChange> fit(Connection c, TableRef ref, List<RowChange> changes, BiConsumer<RowChange, DataException> reject)
            throws SQLException {
        TargetTable table = catalog.find(c, ref);
        if (table == null) {
            if (!config.autoCreate()) {
                return changes; // writing reports the missing table, as it always did
            }
            try {
                table = create(c, ref, changes.get(0));
            } catch (DataException e) {
                changes.forEach(change -> reject.accept(change, e));
                return List.of();
            }
        }
        return config.autoEvolve() ? evolve(c, table, changes, reject) : changes;
    }

    /** The table as {@code change}'s row and key describe it. */
    private TargetTable create(Connection c, TableRef ref, RowChange change) throws SQLException {
        String failure = "Record " + RecordParser.where(change.record()) + " cannot create table " + ref + " (auto.create): ";
        Schema row = change.schema();
        if (row == null) {
            throw new DataException(failure + "it has no schema; use a converter with schemas "
                    + "(e.g. JsonConverter with schemas.enable=true)");
        }
        Schema key = change.record().keySchema();
        if (key == null || key.type() != Schema.Type.STRUCT || key.fields().isEmpty()) {
            throw new DataException(failure + "its key is not a Struct whose fields name the primary key columns");
        }
        List<String> keyColumns = new ArrayList<>();
        for (Field field : key.fields()) {
            if (row.field(field.name()) == null) {
                throw new DataException(failure + "its key field \"" + field.name() + "\" is not a field of the row");
            }
            keyColumns.add(field.name());
        }
        Map<String, String> columns = new LinkedHashMap<>();
        try {
            for (Field field : row.fields()) {
                if (config.writes(field.name()) || keyColumns.contains(field.name())) {
                    columns.put(field.name(), ColumnTypes.of(field.name(), field.schema()));
                }
            }
        } catch (DataException e) {
            throw new DataException(failure + e.getMessage(), e);
        }
        // The columns the sink itself writes.
        if (config.guardMode() == GuardMode.SOURCE_LSN) {
            columns.putIfAbsent(config.guardColumn(), "bigint");
        }
        if (config.positionColumn() != null) {
            columns.putIfAbsent(config.positionColumn(), "bigint");
        }
        if (config.deleteMode() == DeleteMode.SOFT) {
            columns.putIfAbsent(config.softDeleteColumn(), "timestamptz");
        }
        String sql = PgDialect.createTable(ref, columns, keyColumns);
        log.info("Creating table {} for record {}: {}", ref, RecordParser.where(change.record()), sql);
        try {
            execute(c, sql);
        } catch (SQLException e) {
            if (!isDuplicate(e) || catalog.find(c, ref) == null) {
                throw e;
            }
            log.info("Table {} was created by another session meanwhile", ref);
        }
        return catalog.reload(c, ref);
    }

    /** Adds the fields the changes' schemas have and the table lacks; rejects changes whose new fields cannot be added. */
    private List<RowChange> evolve(Connection c, TargetTable table, List<RowChange> changes,
                                   BiConsumer<RowChange, DataException> reject) throws SQLException {
        Map<String, String> added = new LinkedHashMap<>();
        // Records of one topic share a few schema instances (the converter caches them): look at each once.
        Map<Schema, DataException> problems = new IdentityHashMap<>();
        List<RowChange> fitting = new ArrayList<>(changes.size());
        for (RowChange change : changes) {
            DataException problem;
            if (change.schema() == null) {
                problem = newFieldWithoutSchema(table, change);
            } else {
                if (!problems.containsKey(change.schema())) {
                    problems.put(change.schema(), missingColumns(table, change.schema(), added));
                }
                problem = problems.get(change.schema());
            }
            if (problem == null) {
                fitting.add(change);
            } else {
                reject.accept(change, new DataException("Record " + RecordParser.where(change.record())
                        + " cannot be written to " + table.ref() + " (auto.evolve): " + problem.getMessage(), problem));
            }
        }
        String position = config.positionColumn();
        if (position != null && !table.columns().containsKey(position)) {
            added.putIfAbsent(position, "bigint"); // the sink's own column, as auto.create makes it
        }
        if (added.isEmpty()) {
            return fitting;
        }
        String sql = PgDialect.addColumns(table.ref(), added);
        log.info("Adding columns {} to table {}: {}", added.keySet(), table.ref(), sql);
        try {
            execute(c, sql);
        } catch (SQLException e) {
            if (!isDuplicate(e) || !catalog.reload(c, table.ref()).columns().keySet().containsAll(added.keySet())) {
                throw e;
            }
            log.info("Columns {} were added to table {} by another session meanwhile", added.keySet(), table.ref());
        }
        catalog.reload(c, table.ref());
        return fitting;
    }

    /** Adds to {@code added} the fields of {@code schema} the table lacks; the reason when one has no column type. */
    private DataException missingColumns(TargetTable table, Schema schema, Map<String, String> added) {
        Map<String, String> missing = new LinkedHashMap<>();
        for (Field field : schema.fields()) {
            if (!table.columns().containsKey(field.name()) && config.writes(field.name())) {
                try {
                    missing.put(field.name(), ColumnTypes.of(field.name(), field.schema()));
                } catch (DataException e) {
                    return e;
                }
            }
        }
        missing.forEach(added::putIfAbsent); // when schemas disagree on a new field's type, the first one seen wins
        return null;
    }

    private DataException newFieldWithoutSchema(TargetTable table, RowChange change) {
        for (String field : change.columns().keySet()) {
            if (!table.columns().containsKey(field) && config.writes(field)) {
                return new DataException("it has field \"" + field + "\", which the table lacks, but no schema to "
                        + "give the column a type; use a converter with schemas (e.g. JsonConverter with schemas.enable=true)");
            }
        }
        return null;
    }

    /** One DDL statement in a transaction of its own. */
    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement statement = c.createStatement()) {
            statement.execute(sql);
            c.commit();
        } catch (SQLException e) {
            try {
                c.rollback();
            } catch (SQLException broken) {
                e.addSuppressed(broken); // the connection is gone: the caller retries on a new one
            }
            throw e;
        }
    }

    /**
     * Another session created the same table or column at the same time: IF NOT EXISTS checks before
     * the catalog row is inserted, so the loser of the race fails on the catalog's unique index, or
     * on the table's row type ("type ... already exists", duplicate_object).
     */
    private static boolean isDuplicate(SQLException e) {
        String state = e.getSQLState();
        return "23505".equals(state) || "42P07".equals(state) || "42701".equals(state) || "42710".equals(state);
    }
}
