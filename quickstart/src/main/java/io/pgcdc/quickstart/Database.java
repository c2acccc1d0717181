package io.pgcdc.quickstart;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;

import org.postgresql.Driver;

import io.pgcdc.testsupport.PostgresServer;

/** A database the pipeline reads or writes: on a throwaway server this run started, or an existing one. */
public final class Database implements AutoCloseable {

    private final String host;
    private final int port;
    private final String name;
    private final String user;
    private final String password;
    private final PostgresServer owned;

    private Database(String host, int port, String name, String user, String password, PostgresServer owned) {
        this.host = host;
        this.port = port;
        this.name = name;
        this.user = user;
        this.password = password;
        this.owned = owned;
    }

    /** A new server from the local binaries, with database {@code name}; closing the database stops the server. */
    public static Database throwaway(String name) throws SQLException {
        PostgresServer server = PostgresServer.startUnmanaged(Map.of());
        server.createDatabase(name);
        return new Database(server.host(), server.port(), name, "postgres", "", server);
    }

    /** An existing database named by a URL such as {@code jdbc:postgresql://host:5432/app?user=u&password=p}. */
    public static Database existing(String jdbcUrl) {
        Properties url = Driver.parseURL(jdbcUrl, new Properties());
        if (url == null) {
            throw new IllegalArgumentException("Not a PostgreSQL JDBC URL: " + jdbcUrl
                    + " (expected jdbc:postgresql://HOST:PORT/DATABASE?user=USER&password=PASSWORD)");
        }
        String user = url.getProperty("user");
        if (user == null) {
            throw new IllegalArgumentException("The URL " + jdbcUrl + " names no user (add ?user=USER&password=PASSWORD)");
        }
        return new Database(url.getProperty("PGHOST"), Integer.parseInt(url.getProperty("PGPORT")),
                url.getProperty("PGDBNAME"), user, url.getProperty("password", ""), null);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String name() {
        return name;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** Without credentials: connectors take those as separate (password-typed) settings. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + name;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), user, password);
    }

    public void execute(String... statements) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** The first column of the first row, or null. */
    public String queryValue(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }
}
