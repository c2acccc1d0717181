package io.pgcdc.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

import org.apache.kafka.connect.errors.ConnectException;

import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.schema.TableSchema;
import io.pgcdc.source.schema.TableSchemaBuilder;

/**
 * A captured table as snapshots read it: its columns described as pgoutput would describe them
 * (so rows convert exactly as streamed ones do), read in key order after a given key.
 */
final class SnapshotTable {

    /** A partitioned table's rows are its partitions': it has no estimate of its own. */
    private static final String COLUMNS = "SELECT c.oid, c.relreplident, CASE WHEN c.relkind = 'p' THEN (SELECT "
            + "sum(greatest(l.reltuples, 0)) FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class l "
            + "ON l.oid = t.relid WHERE t.isleaf) ELSE c.reltuples END::bigint, a.attname, a.atttypid, "
            + "a.atttypmod, CASE c.relreplident WHEN 'f' THEN true WHEN 'n' THEN false "
            + "ELSE coalesce(a.attnum = ANY(i.indkey), false) END "
            + "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            + "AND a.attgenerated = '' "
            + "LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) "
            + "OR (c.relreplident = 'i' AND i.indisreplident)) "
            + "WHERE n.nspname = ? AND c.relname = ? ORDER BY a.attnum";

    private final String qualified;
    private final Relation relation;
    private final TableSchema schema;
    private final long estimatedRows;

    SnapshotTable(String qualified, Relation relation, TableSchema schema, long estimatedRows) {
        this.qualified = qualified;
        this.relation = relation;
        this.schema = schema;
        this.estimatedRows = estimatedRows;
    }

    static SnapshotTable describe(Connection c, Snapshotter.Table captured, TableSchemaBuilder schemas, Catalog catalog)
            throws SQLException {
        String qualified = captured.qualified();
        String schemaName = captured.schema();
        String table = captured.name();
        List<Relation.Column> columns = new ArrayList<>();
        int oid = 0;
        char identity = 'd';
        long estimate = -1;
        try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
            ps.setString(1, schemaName);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    oid = (int) rs.getLong(1);
                    identity = rs.getString(2).charAt(0);
                    estimate = rs.getLong(3);
                    columns.add(new Relation.Column(rs.getString(4), (int) rs.getLong(5), rs.getInt(6), rs.getBoolean(7)));
                }
            }
        }
        if (columns.isEmpty()) {
            throw new ConnectException("Snapshot: table " + qualified + " has no columns or does not exist");
        }
        int relationId = oid;
        Relation relation = new Relation(relationId, schemaName, table, identity, columns);
        TableSchema tableSchema = schemas.build(relation, () -> catalog.primaryKey(relationId), catalog::type);
        return new SnapshotTable(qualified, relation, tableSchema, estimate);
    }

    String qualified() {
        return qualified;
    }

    TableSchema schema() {
        return schema;
    }

    long estimatedRows() {
        return estimatedRows;
    }

    boolean keyed() {
        return !schema.keyColumnIndexes().isEmpty();
    }

    /**
     * Prepares the read of the rows after {@code afterKey} (null: from the first), in key order when
     * the table has a key, at most {@code limit} of them (0: all).
     */
    PreparedStatement select(Connection c, String afterKey, int limit) throws SQLException {
        List<Integer> order = schema.keyColumnIndexes();
        StringJoiner columns = new StringJoiner(", ");
        relation.columns().forEach(column -> columns.add(Sql.quote(column.name())));
        StringBuilder sql = new StringBuilder("SELECT ").append(columns).append(" FROM ")
                .append(Sql.quote(relation.schema())).append('.').append(Sql.quote(relation.table()));
        List<String> after = afterKey == null || order.isEmpty() ? List.of() : KeyText.decode(afterKey);
        if (!order.isEmpty()) {
            StringJoiner keys = new StringJoiner(", ");
            StringJoiner params = new StringJoiner(", ");
            for (int i : order) {
                keys.add(Sql.quote(relation.columns().get(i).name()));
                params.add("?");
            }
            if (!after.isEmpty()) {
                sql.append(" WHERE (").append(keys).append(") > (").append(params).append(')');
            }
            sql.append(" ORDER BY ").append(keys);
        }
        if (limit > 0) {
            sql.append(" LIMIT ").append(limit);
        }
        PreparedStatement ps = c.prepareStatement(sql.toString());
        for (int i = 0; i < after.size(); i++) {
            ps.setString(i + 1, after.get(i));
        }
        return ps;
    }

    /** The current row's values, as text. */
    String[] values(ResultSet rs) throws SQLException {
        String[] values = new String[relation.columns().size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = rs.getString(i + 1);
        }
        return values;
    }

    /** The row's key as {@link KeyText}; null for a table without a key. */
    String keyText(String[] values) {
        return keyText(schema, i -> values[i]);
    }

    /** The key of a row as {@link KeyText}, from its key columns' text forms; null without a key. */
    static String keyText(TableSchema schema, java.util.function.IntFunction<String> column) {
        List<Integer> order = schema.keyColumnIndexes();
        if (order.isEmpty()) {
            return null;
        }
        List<String> key = new ArrayList<>(order.size());
        for (int i : order) {
            String value = column.apply(i);
            key.add(value == null ? "" : value);
        }
        return KeyText.encode(key);
    }
}
