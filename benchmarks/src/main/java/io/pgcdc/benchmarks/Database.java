package io.pgcdc.benchmarks;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import io.pgcdc.testsupport.PostgresServer;

/** One database of the throwaway server. */
record Database(PostgresServer server, String name) {

    Connection connect() throws SQLException {
        return server.connect(name);
    }

    String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    void execute(String... statements) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    long queryLong(String sql) throws SQLException {
        String value = server.queryValue(name, sql);
        return value == null ? 0 : Long.parseLong(value);
    }

    String queryValue(String sql) throws SQLException {
        return server.queryValue(name, sql);
    }
}
