package io.pgcdc.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.connect.errors.DataException;

/** Reads target tables from the catalog, once per table until {@link #forget} says it changed. */
final class TargetCatalog {

    private static final String TABLE = "SELECT c.oid, c.relkind = 'p' FROM pg_catalog.pg_class c "
            + "WHERE c.oid = pg_catalog.to_regclass(?)";
    private static final String COLUMNS = "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
            + "COALESCE(bt.typname, t.typname) FROM pg_catalog.pg_attribute a "
            + "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
            + "LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype "
            + "WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
    /** The primary key, else the first unique index that is neither partial nor on expressions. */
    private static final String KEY = "SELECT i.indexrelid, "
            + "ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
            + "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] "
            + "FROM pg_catalog.pg_index i WHERE i.indrelid = ? AND i.indisunique AND i.indpred IS NULL "
            + "AND i.indexprs IS NULL ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1";

    /** Read by the task's thread too (see {@link #cached}); only the writing thread loads and forgets. */
    private final Map<TableRef, TargetTable> tables = new ConcurrentHashMap<>();

    TargetTable table(Connection connection, TableRef ref) throws SQLException {
        TargetTable table = find(connection, ref);
        if (table == null) {
            throw new DataException("Target table " + ref + " does not exist");
        }
        return table;
    }

    /** The table, or null when it does not exist (not remembered: it may be created). */
    TargetTable find(Connection connection, TableRef ref) throws SQLException {
        TargetTable table = tables.get(ref);
        if (table == null) {
            table = load(connection, ref);
            if (table != null) {
                tables.put(ref, table);
            }
        }
        return table;
    }

    /** The table as last read, or null: no database is asked. */
    TargetTable cached(TableRef ref) {
        return tables.get(ref);
    }

    /** Reads one table again: a record brought a field the cached description lacks, or the sink altered the table. */
    TargetTable reload(Connection connection, TableRef ref) throws SQLException {
        tables.remove(ref);
        return table(connection, ref);
    }

    /** Drops what is known, after a statement failed because a table or column changed. */
    void forgetAll() {
        tables.clear();
    }

    private static TargetTable load(Connection connection, TableRef ref) throws SQLException {
        TargetTable table = describe(connection, ref);
        if (table != null && table.keyColumns().isEmpty()) {
            throw new DataException("Target table " + ref + " has no primary key or unique index to upsert on");
        }
        return table;
    }

    /** The table as the catalog has it, with no conflict key when it has none; null when it does not exist. */
    static TargetTable describe(Connection connection, TableRef ref) throws SQLException {
        long oid;
        boolean partitioned;
        try (PreparedStatement ps = connection.prepareStatement(TABLE)) {
            ps.setString(1, ref.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                oid = rs.getLong(1);
                partitioned = rs.getBoolean(2);
            }
        }
        Map<String, TargetTable.Column> columns = new LinkedHashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(COLUMNS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.put(rs.getString(1), new TargetTable.Column(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
        }
        List<String> key = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(KEY)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    for (String column : (String[]) rs.getArray(2).getArray()) {
                        key.add(column);
                    }
                }
            }
        }
        return new TargetTable(ref, columns, List.copyOf(key), partitioned);
    }
}
