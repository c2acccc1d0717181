package io.pgcdc.cutover;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/** What the comparison reads from the catalogs: the source's tables and columns, the target's columns. */
final class Catalog {

    /** The tables the source connector can capture: ordinary and partitioned, no partitions, no system schemas. */
    private static final String TABLES = "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
            + "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
            + "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
            + "ORDER BY 1, 2";

    /**
     * A table's columns with their type, domains resolved to their base type. Generated columns are
     * left out: logical replication does not send them. Types with OIDs below 16384 are built in,
     * so they exist on the target too, under the same internal name (int4, _text, bpchar).
     */
    private static final String COLUMNS = "WITH RECURSIVE typ(attnum, attname, oid) AS ("
            + " SELECT a.attnum, a.attname, a.atttypid FROM pg_catalog.pg_attribute a"
            + " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
            + " UNION ALL"
            + " SELECT typ.attnum, typ.attname, t.typbasetype FROM typ JOIN pg_catalog.pg_type t ON t.oid = typ.oid"
            + " WHERE t.typtype = 'd')"
            + " SELECT typ.attname, t.typname, typ.oid < 16384"
            + " FROM typ JOIN pg_catalog.pg_type t ON t.oid = typ.oid WHERE t.typtype <> 'd' ORDER BY typ.attnum";

    /** One row per column; none when the table is missing. */
    private static final String TARGET_COLUMNS = "SELECT a.attname FROM pg_catalog.pg_class c "
            + "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            + "WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')";

    private Catalog() {
    }

    /** The source's tables whose 'schema.table' the filter accepts, in name order. */
    static List<TableName> sourceTables(Connection source, Predicate<TableName> filter) throws SQLException {
        List<TableName> tables = new ArrayList<>();
        try (Statement statement = source.createStatement(); ResultSet rs = statement.executeQuery(TABLES)) {
            while (rs.next()) {
                TableName table = new TableName(rs.getString(1), rs.getString(2));
                if (filter.test(table)) {
                    tables.add(table);
                }
            }
        }
        return tables;
    }

    static List<Column> sourceColumns(Connection source, TableName table) throws SQLException {
        List<Column> columns = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement(COLUMNS)) {
            ps.setString(1, table.schema());
            ps.setString(2, table.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new Column(rs.getString(1), rs.getBoolean(3) ? CanonicalText.castType(rs.getString(2)) : null));
                }
            }
        }
        return columns;
    }

    /** The target table's column names; null when the table does not exist. */
    static Set<String> targetColumns(Connection target, TableName table) throws SQLException {
        Set<String> columns = new LinkedHashSet<>();
        try (PreparedStatement ps = target.prepareStatement(TARGET_COLUMNS)) {
            ps.setString(1, table.schema());
            ps.setString(2, table.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        return columns.isEmpty() ? null : columns; // a table without columns cannot hold a source row either
    }
}
