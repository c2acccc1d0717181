package io.pgcdc.source.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * The database's types by OID, read from {@code pg_type} once and again on a miss,
 * so that types created while the connector runs (an enum, a domain) are found.
 */
public final class TypeRegistry {

    private static final String SELECT = "SELECT t.oid, n.nspname, t.typname, t.typtype, t.typcategory, t.typelem, "
            + "t.typbasetype, t.typtypmod FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace";

    private final Map<Integer, PgType> types = new HashMap<>();

    public TypeRegistry(Map<Integer, PgType> initial) {
        types.putAll(initial);
    }

    public static TypeRegistry load(Connection connection) throws SQLException {
        Map<Integer, PgType> all = new HashMap<>();
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(SELECT)) {
            while (rs.next()) {
                PgType type = read(rs);
                all.put(type.oid(), type);
            }
        }
        return new TypeRegistry(all);
    }

    /** The type, looking it up through {@code connection} if it is new; null if the server does not know it either. */
    public PgType get(int oid, ConnectionSupplier connection) throws SQLException {
        PgType type = types.get(oid);
        if (type == null && connection != null) {
            try (PreparedStatement ps = connection.get().prepareStatement(SELECT + " WHERE t.oid = ?")) {
                ps.setLong(1, Integer.toUnsignedLong(oid));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        type = read(rs);
                        types.put(oid, type);
                    }
                }
            }
        }
        return type;
    }

    private static PgType read(ResultSet rs) throws SQLException {
        return new PgType((int) rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4).charAt(0),
                rs.getString(5).charAt(0), (int) rs.getLong(6), (int) rs.getLong(7), rs.getInt(8));
    }

    /** Supplies an open catalog connection when a lookup needs one. */
    @FunctionalInterface
    public interface ConnectionSupplier {
        Connection get() throws SQLException;
    }
}
