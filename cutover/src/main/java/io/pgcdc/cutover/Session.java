package io.pgcdc.cutover;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A connection for one side of a comparison: the settings that shape values' text pinned to the
 * same on both sides, and one read-only REPEATABLE READ transaction, so that all tables of a side
 * are read from one snapshot of its database.
 */
final class Session {

    private static final String[] SETTINGS = {
        "SET TimeZone = 'UTC'",
        "SET DateStyle = 'ISO, MDY'",
        "SET IntervalStyle = 'iso_8601'",
        // The shortest text that reads back as the same float (PostgreSQL 12 and later).
        "SET extra_float_digits = 1",
        "SET bytea_output = 'hex'",
        "SET lc_monetary = 'C'",
        // Type names in casts are the built-in ones, whatever the database's own types are called.
        "SET search_path = pg_catalog",
    };

    private Session() {
    }

    static Connection open(String jdbcUrl) throws SQLException {
        Connection connection = DriverManager.getConnection(jdbcUrl);
        try {
            try (Statement statement = connection.createStatement()) {
                for (String setting : SETTINGS) {
                    statement.execute(setting);
                }
            }
            connection.setAutoCommit(false);
            connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            connection.setReadOnly(true);
            return connection;
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
    }
}
