package io.pgcdc.source;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;

import org.apache.kafka.connect.errors.RetriableException;

import io.pgcdc.source.schema.PgType;
import io.pgcdc.source.schema.TypeRegistry;

/** The catalog read over an ordinary connection, opened again when it was lost. */
final class JdbcCatalog implements Catalog, AutoCloseable {

    private static final String PRIMARY_KEY = "SELECT a.attname FROM pg_catalog.pg_index i "
            + "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            + "WHERE i.indrelid = ? AND i.indisprimary";

    private static final String SLOT_STATE = "SELECT coalesce(s.confirmed_flush_lsn - '0/0', 0)::bigint, "
            + "coalesce(pg_current_wal_lsn() - s.restart_lsn, 0)::bigint, (pg_current_wal_lsn() - '0/0')::bigint, %s "
            + "FROM pg_catalog.pg_replication_slots s %s WHERE s.slot_name = ?";
    /** The slot's spill statistics: PostgreSQL 14+ keeps them in pg_stat_replication_slots; -1 before. */
    private static final String SPILLS = "coalesce(st.spill_bytes, 0), coalesce(st.spill_txns, 0)";
    private static final String SPILLS_FROM = "LEFT JOIN pg_catalog.pg_stat_replication_slots st ON st.slot_name = s.slot_name";

    private final SourceConfig config;
    private Connection connection;
    private TypeRegistry types;

    JdbcCatalog(SourceConfig config) {
        this.config = config;
    }

    Connection connection() throws SQLException {
        if (connection == null || !connection.isValid(5)) {
            close();
            java.util.Properties props = config.connectionProperties();
            org.postgresql.PGProperty.SOCKET_TIMEOUT.set(props, 60);
            connection = DriverManager.getConnection(config.jdbcUrl(), props);
        }
        return connection;
    }

    @Override
    public Set<String> primaryKey(int relationId) {
        try (PreparedStatement ps = connection().prepareStatement(PRIMARY_KEY)) {
            ps.setLong(1, Integer.toUnsignedLong(relationId));
            Set<String> columns = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
            return columns;
        } catch (SQLException e) {
            throw new RetriableException("Cannot read the primary key of relation " + relationId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public PgType type(int oid) {
        try {
            if (types == null) {
                types = TypeRegistry.load(connection());
            }
            PgType type = types.get(oid, this::connection);
            if (type == null) {
                // Dropped since the change was written (the stream may be behind the catalog): its text form still travels.
                return new PgType(oid, "", "unknown", 'b', 'X', 0, 0, -1);
            }
            return type;
        } catch (SQLException e) {
            throw new RetriableException("Cannot read pg_type: " + e.getMessage(), e);
        }
    }

    /** The slot as the server sees it; null when it does not exist. */
    SourceMetrics.SlotState slotState(String slot) throws SQLException {
        Connection c = connection();
        boolean spills = c.getMetaData().getDatabaseMajorVersion() >= 14;
        try (PreparedStatement ps = c.prepareStatement(String.format(SLOT_STATE, spills ? SPILLS : "-1, -1",
                spills ? SPILLS_FROM : ""))) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new SourceMetrics.SlotState(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                        rs.getLong(5)) : null;
            }
        }
    }

    @Override
    public void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // closing a connection that may already be broken
            }
            connection = null;
        }
    }
}
