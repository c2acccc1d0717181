package io.pgcdc.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster with {@code wal_level=logical}, started from the server binaries
 * {@link PostgresBinaries} finds. PostgreSQL refuses to run as root, so as root the binaries run as the
 * {@code postgres} user.
 */
public final class PostgresServer implements AutoCloseable {

    /**
     * TLS for the server: its certificate and key (PEM), and the CA whose client certificates it
     * accepts for {@code cert} authentication.
     */
    public record Tls(Path serverCert, Path serverKey, Path caCert) { }

    private final Path dataDir;
    private final int port;
    private volatile boolean running;

    private PostgresServer(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    /** Starts a cluster with test-friendly settings plus {@code settings}, which win; it is stopped at JVM exit. */
    public static PostgresServer start(Map<String, String> settings) {
        PostgresServer server = startUnmanaged(settings);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        return server;
    }

    /**
     * Starts a cluster with TLS on (unless {@code tls} is null) and {@code hba} lines matched before the
     * defaults, which trust every local and 127.0.0.1 connection; it is stopped at JVM exit.
     */
    public static PostgresServer start(Map<String, String> settings, Tls tls, List<String> hba) {
        PostgresServer server = startUnmanaged(settings, tls, hba);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        return server;
    }

    /** Starts a cluster that only {@link #close()} stops: for a caller that orders its own shutdown. */
    public static PostgresServer startUnmanaged(Map<String, String> settings) {
        return startUnmanaged(settings, null, List.of());
    }

    private static PostgresServer startUnmanaged(Map<String, String> settings, Tls tls, List<String> hba) {
        try {
            Path dir = Files.createTempDirectory("pgcdc-pg-");
            PostgresServer server = new PostgresServer(dir.resolve("data"), freePort());
            server.init(settings, tls, hba);
            server.startServer();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static PostgresServer start() {
        return start(Map.of());
    }

    /**
     * A hot standby of this server, started with {@code standby.signal} and {@code settings} ({@code primary_conninfo},
     * {@code primary_slot_name}, …) from a copy of this server's data directory taken while it was stopped cleanly
     * (it restarts); the standby is stopped at JVM exit.
     */
    public PostgresServer standby(Map<String, String> settings) {
        try {
            Path dir = Files.createTempDirectory("pgcdc-pg-");
            if (isRoot()) {
                run(List.of("chown", "postgres", dir.toString()));
            }
            PostgresServer standby = new PostgresServer(dir.resolve("data"), freePort());
            stop(false);
            run(asPostgres("cp", "-a", dataDir.toString(), standby.dataDir.toString()));
            startServer();
            StringBuilder conf = new StringBuilder();
            appendSetting(conf, "port", String.valueOf(standby.port));
            appendSetting(conf, "unix_socket_directories", "'" + dir + "'");
            settings.forEach((k, v) -> appendSetting(conf, k, v));
            Files.writeString(standby.dataDir.resolve("postgresql.conf"), conf.toString(),
                    java.nio.file.StandardOpenOption.APPEND);
            Files.writeString(standby.dataDir.resolve("standby.signal"), "");
            standby.startServer();
            Runtime.getRuntime().addShutdownHook(new Thread(standby::close));
            return standby;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends recovery on a standby: it becomes a primary. */
    public void promote() {
        run(asPostgres(binary("pg_ctl"), "-D", dataDir.toString(), "-w", "-t", "60", "promote"));
    }

    private void init(Map<String, String> settings, Tls tls, List<String> hba) throws IOException {
        Path parent = dataDir.getParent();
        if (isRoot()) {
            run(List.of("chown", "postgres", parent.toString()));
        }
        run(asPostgres(binary("initdb"), "-D", dataDir.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--no-sync", "--locale=C"));
        StringBuilder conf = new StringBuilder();
        appendSetting(conf, "port", String.valueOf(port));
        appendSetting(conf, "listen_addresses", "'127.0.0.1'");
        appendSetting(conf, "unix_socket_directories", "'" + parent + "'");
        appendSetting(conf, "wal_level", "logical");
        appendSetting(conf, "max_replication_slots", "20");
        appendSetting(conf, "max_wal_senders", "20");
        appendSetting(conf, "max_connections", "100");
        appendSetting(conf, "fsync", "off");
        appendSetting(conf, "full_page_writes", "off");
        appendSetting(conf, "shared_buffers", "128MB");
        appendSetting(conf, "log_min_messages", "warning");
        if (tls != null) {
            appendSetting(conf, "ssl", "on");
            appendSetting(conf, "ssl_cert_file", "'" + serverFile(tls.serverCert(), "server.crt") + "'");
            appendSetting(conf, "ssl_key_file", "'" + serverFile(tls.serverKey(), "server.key") + "'");
            appendSetting(conf, "ssl_ca_file", "'" + serverFile(tls.caCert(), "ca.crt") + "'");
        }
        settings.forEach((k, v) -> appendSetting(conf, k, v));
        Files.writeString(dataDir.resolve("postgresql.conf"), conf.toString(),
                java.nio.file.StandardOpenOption.APPEND);
        StringBuilder lines = new StringBuilder();
        hba.forEach(line -> lines.append(line).append('\n'));
        // Replication connections over TCP need their own pg_hba line.
        lines.append("local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n");
        Files.writeString(dataDir.resolve("pg_hba.conf"), lines.toString());
    }

    /** A copy the server may read and nobody else (PostgreSQL refuses a key others can read). */
    private Path serverFile(Path file, String name) throws IOException {
        Path copy = dataDir.getParent().resolve(name);
        Files.copy(file, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        if (isRoot()) {
            run(List.of("chown", "postgres", copy.toString()));
        }
        return copy;
    }

    private static void appendSetting(StringBuilder conf, String key, String value) {
        conf.append('\n').append(key).append(" = ").append(value);
    }

    private void startServer() {
        run(asPostgres(binary("pg_ctl"), "-D", dataDir.toString(), "-l", dataDir.getParent().resolve("log").toString(),
                "-w", "-t", "60", "start"));
        running = true;
    }

    /** Stops the server the way a crash would ({@code -m immediate}) or cleanly ({@code -m fast}). */
    public void stop(boolean immediate) {
        run(asPostgres(binary("pg_ctl"), "-D", dataDir.toString(), "-w", "-t", "60", "-m", immediate ? "immediate" : "fast", "stop"));
        running = false;
    }

    public void restart() {
        stop(false);
        startServer();
    }

    public void startAgain() {
        startServer();
    }

    public int port() {
        return port;
    }

    /** The server's major version (12, 13, …). */
    public int majorVersion() {
        try {
            return Integer.parseInt(queryValue("postgres", "SHOW server_version_num")) / 10000;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public String host() {
        return "127.0.0.1";
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), "postgres", "");
    }

    public void createDatabase(String database) throws SQLException {
        execute("postgres", "CREATE DATABASE \"" + database + "\"");
    }

    public void execute(String database, String... statements) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** The first column of the first row, or null. */
    public String queryValue(String database, String sql) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Override
    public synchronized void close() {
        if (running) {
            try {
                stop(true);
            } catch (RuntimeException ignored) {
                // best effort at shutdown
            }
        }
        deleteRecursively(dataDir.getParent());
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp files; nothing to do
        }
    }

    private static String binary(String name) {
        return PostgresBinaries.bin().resolve(name).toString();
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static List<String> asPostgres(String... command) {
        List<String> full = new ArrayList<>();
        if (isRoot()) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(List.of(command));
        return full;
    }

    private static void run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("Command failed: " + String.join(" ", command) + "\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
