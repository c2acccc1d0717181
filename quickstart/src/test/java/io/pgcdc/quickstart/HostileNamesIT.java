package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * Schema, table and column names that break SQL built by concatenation — mixed case, spaces, double
 * quotes, semicolons, dots, non-ASCII letters, reserved words — through both connectors, snapshot and
 * stream, into tables of the same names: every row lands where it should.
 */
class HostileNamesIT {

    private static final String OLTP = "app";
    private static final String OLAP = "olap";
    private static final String PREFIX = "Hostile-1";
    private static final String[][] TABLES = {{"Sales; \"Q1\"", "Order Items.v2 \"Ä\" select"}, {"my.schema", "select"}};
    private static final String KEY = "Key \"1\"";
    private static final String[] COLUMNS = {"select", "a.b", "naïve; col", "UPPER"};
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.createDatabase(OLTP);
        pg.createDatabase(OLAP);
        for (String database : List.of(OLTP, OLAP)) {
            for (String[] table : TABLES) {
                pg.execute(database, "CREATE SCHEMA IF NOT EXISTS " + quote(table[0]), "CREATE TABLE " + qualified(table)
                        + " (" + quote(KEY) + " int PRIMARY KEY, " + quote(COLUMNS[0]) + " text, " + quote(COLUMNS[1])
                        + " int, " + quote(COLUMNS[2]) + " text, " + quote(COLUMNS[3]) + " text, "
                        + "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())");
            }
        }
        connect = PluginWorker.start("hostile-names", Map.of());
    }

    @AfterAll
    static void stop() {
        if (connect != null) {
            connect.stop();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** Quoted by the test itself, so that a connector's mistake cannot be cancelled out by the test's. */
    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private static String qualified(String[] table) {
        return quote(table[0]) + "." + quote(table[1]);
    }

    private static void write(String... statements) throws Exception {
        for (String[] table : TABLES) {
            for (String statement : statements) {
                pg.execute(OLTP, statement.replace("TABLE", qualified(table)).replace("KEY", quote(KEY))
                        .replace("C0", quote(COLUMNS[0])).replace("C1", quote(COLUMNS[1]))
                        .replace("C2", quote(COLUMNS[2])).replace("C3", quote(COLUMNS[3])));
            }
        }
    }

    private static List<String> rows(String database, String[] table) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = pg.connect(database); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + quote(KEY) + ", " + quote(COLUMNS[0]) + ", " + quote(COLUMNS[1]) + ", "
                     + quote(COLUMNS[2]) + ", " + quote(COLUMNS[3]) + ", updated_at FROM " + qualified(table) + " ORDER BY 1")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4) + "|"
                        + rs.getString(5) + "|" + rs.getString(6));
            }
        }
        return rows;
    }

    @Test
    void rowsOfHostilelyNamedTablesLandInTablesOfTheSameNames() throws Exception {
        write("INSERT INTO TABLE (KEY, C0, C1, C2, C3) VALUES (1, 'snap''shot; --', 1, 'ü', 'x')",
                "INSERT INTO TABLE (KEY, C0, C1, C2, C3) VALUES (2, 'doomed', 2, 'ö', 'y')");
        Map<String, String> source = PluginWorker.source("hostile", pg.host(), pg.port(), OLTP, "postgres",
                Pattern.quote(TABLES[0][0] + "." + TABLES[0][1]) + "," + Pattern.quote(TABLES[1][0] + "." + TABLES[1][1]));
        source.put("topic.prefix", PREFIX);
        connect.configureConnector("hostile", source);
        ConnectorStatus.awaitRunning(connect, "hostile", PluginWorker.TIMEOUT);
        try (Admin admin = connect.kafka().createAdminClient()) {
            Await.until(PluginWorker.TIMEOUT, "the snapshot's topics", () -> admin.listTopics().names().get().stream()
                    .filter(topic -> topic.startsWith(PREFIX + ".")).count() == TABLES.length);
        }

        Map<String, String> sink = PluginWorker.sink("hostile-sink", pg.jdbcUrl(OLAP), "postgres", "");
        sink.remove("topics");
        sink.put("topics.regex", Pattern.quote(PREFIX + ".") + ".*");
        connect.configureConnector("hostile-sink", sink);
        ConnectorStatus.awaitRunning(connect, "hostile-sink", PluginWorker.TIMEOUT);

        write("INSERT INTO TABLE (KEY, C0, C1, C2, C3) VALUES (3, 'streamed \"x\"', 3, 'ß', 'z')",
                "UPDATE TABLE SET C1 = C1 + 10, C3 = upper(C3), updated_at = clock_timestamp() WHERE KEY = 1",
                "DELETE FROM TABLE WHERE KEY = 2");
        for (String[] table : TABLES) {
            Await.until(PluginWorker.TIMEOUT, () -> qualified(table) + " in the OLAP database equal to the OLTP one: "
                            + rowsOrError(OLAP, table) + " vs " + rowsOrError(OLTP, table),
                    () -> rows(OLAP, table).equals(rows(OLTP, table)));
            assertEquals(2, rows(OLAP, table).size());
        }
    }

    private static String rowsOrError(String database, String[] table) {
        try {
            return rows(database, table).toString();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
