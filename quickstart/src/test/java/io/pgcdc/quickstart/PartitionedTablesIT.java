package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * A partitioned table named in table.include.list is one table, snapshot and stream, under its own name: rows
 * moved between partitions and a partition attached while streaming included. Naming its partitions instead
 * captures each as a table of its own. Both through both connectors, compared row for row.
 */
@Tag("compat")
class PartitionedTablesIT {

    private static final String OLTP = "app";
    private static final String OLAP = "olap";
    private static final String COLUMNS = "id, day, v, updated_at";
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.createDatabase(OLTP);
        pg.createDatabase(OLAP);
        connect = PluginWorker.start("partitioned", Map.of());
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

    private static List<String> rows(String database, String table) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = pg.connect(database); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + COLUMNS + " FROM " + table + " ORDER BY id, day")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4));
            }
        }
        return rows;
    }

    private static void awaitEqual(String oltpTable, String olapTable) {
        Await.until(PluginWorker.TIMEOUT, () -> olapTable + " equal to " + oltpTable + ": " + count(OLAP, olapTable)
                + " rows against " + count(OLTP, oltpTable), () -> rows(OLAP, olapTable).equals(rows(OLTP, oltpTable)));
    }

    private static String count(String database, String table) {
        try {
            return pg.queryValue(database, "SELECT count(*) FROM " + table);
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static void olapTable(String name) throws Exception {
        pg.execute(OLAP, "CREATE TABLE " + name + " (id bigint, day date, v text, updated_at timestamptz, "
                + "pgcdc_position numeric, PRIMARY KEY (id, day))");
    }

    /** Source and sink with schemas in the records: the partition key is a date, an int without its schema. */
    private static void pipeline(String name, String tables, String topics) {
        Map<String, String> source = PluginWorker.source(name, pg.host(), pg.port(), OLTP, "postgres", tables);
        Map<String, String> sink = PluginWorker.sink(name + "-sink", pg.jdbcUrl(OLAP), "postgres", topics);
        for (Map<String, String> config : List.of(source, sink)) {
            for (String converter : List.of("key.converter", "value.converter")) {
                config.put(converter, "org.apache.kafka.connect.json.JsonConverter");
                config.put(converter + ".schemas.enable", "true");
            }
        }
        connect.configureConnector(name, source);
        ConnectorStatus.awaitRunning(connect, name, PluginWorker.TIMEOUT);
        connect.configureConnector(name + "-sink", sink);
        ConnectorStatus.awaitRunning(connect, name + "-sink", PluginWorker.TIMEOUT);
    }

    @Test
    void aPartitionedTableIsCapturedWholeUnderItsOwnName() throws Exception {
        pg.execute(OLTP, "CREATE TABLE measurements (id bigint, day date, v text, "
                        + "updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (id, day)) PARTITION BY RANGE (day)",
                "CREATE TABLE measurements_1 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')",
                "CREATE TABLE measurements_2 PARTITION OF measurements FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')",
                "CREATE TABLE measurements_3 PARTITION OF measurements FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')",
                "CREATE TABLE measurements_4 PARTITION OF measurements FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')",
                "INSERT INTO measurements (id, day, v) SELECT g, date '2024-01-01' + (g % 120), 'snapshot ' || g "
                        + "FROM generate_series(1, 3000) g");
        if (pg.majorVersion() < 13) {
            Map<String, String> source = PluginWorker.source("whole", pg.host(), pg.port(), OLTP, "postgres",
                    "public\\.measurements");
            String refused = String.valueOf(PluginWorker.validationErrors(connect, source).get("table.include.list"));
            assertTrue(refused.contains("cannot publish partitioned tables [\"public\".\"measurements\"]")
                    && refused.contains("name their partitions in table.include.list"), refused);
            return;
        }
        pg.execute(OLTP, "CREATE PUBLICATION by_hand FOR TABLE measurements");
        olapTable("measurements");

        pipeline("whole", "public\\.measurements", "whole.public.measurements");
        awaitEqual("measurements", "measurements");

        pg.execute(OLTP, "INSERT INTO measurements (id, day, v) SELECT g, date '2024-01-01' + (g % 120), 'streamed ' || g "
                        + "FROM generate_series(3001, 3500) g",
                "UPDATE measurements SET v = 'updated', updated_at = clock_timestamp() WHERE id % 7 = 0",
                // Moved to the next month's partition: an UPDATE of the partition key.
                "UPDATE measurements SET day = day + 31, v = 'moved', updated_at = clock_timestamp() "
                        + "WHERE id % 11 = 0 AND day < '2024-03-01'",
                "DELETE FROM measurements WHERE id % 13 = 0",
                "CREATE TABLE measurements_5 (LIKE measurements INCLUDING DEFAULTS)",
                "ALTER TABLE measurements ATTACH PARTITION measurements_5 FOR VALUES FROM ('2024-05-01') TO ('2024-06-01')",
                "INSERT INTO measurements (id, day, v) SELECT g, date '2024-05-01' + (g % 30), 'attached ' || g "
                        + "FROM generate_series(3501, 3600) g",
                "UPDATE measurements SET day = '2024-05-15', v = 'moved in', updated_at = clock_timestamp() WHERE id = 17");
        awaitEqual("measurements", "measurements");
        assertEquals("100", pg.queryValue(OLAP, "SELECT count(*) FROM measurements WHERE v LIKE 'attached %'"));

        // A publication made without publish_via_partition_root sends the partitions' names: refused, saying why.
        Map<String, String> byHand = PluginWorker.source("by_hand", pg.host(), pg.port(), OLTP, "postgres",
                "public\\.measurements");
        byHand.put("publication.name", "by_hand");
        byHand.put("publication.autocreate.mode", "disabled");
        Map<String, List<String>> errors = PluginWorker.validationErrors(connect, byHand);
        String refused = String.valueOf(errors.get("publication.autocreate.mode"));
        assertTrue(refused.contains("does not publish [\"public\".\"measurements\"] under their own names")
                && refused.contains("SET (publish_via_partition_root = true)"), errors.toString());
    }

    @Test
    void partitionsNamedInsteadOfTheirTableAreCapturedEachAsATable() throws Exception {
        pg.execute(OLTP, "CREATE TABLE events (id bigint, day date, v text, "
                        + "updated_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (id, day)) PARTITION BY RANGE (day)",
                "CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')",
                "CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2024-07-01') TO ('2025-01-01')",
                "INSERT INTO events (id, day, v) SELECT g, date '2024-01-01' + (g % 360), 'snapshot ' || g "
                        + "FROM generate_series(1, 1000) g");
        olapTable("events_a");
        olapTable("events_b");
        pipeline("parts", "public\\.events_a,public\\.events_b", "parts.public.events_a,parts.public.events_b");
        pg.execute(OLTP, "INSERT INTO events (id, day, v) SELECT g, date '2024-01-01' + (g % 360), 'streamed ' || g "
                        + "FROM generate_series(1001, 1200) g",
                "UPDATE events SET v = 'updated', updated_at = clock_timestamp() WHERE id % 7 = 0",
                "DELETE FROM events WHERE id % 13 = 0");
        awaitEqual("events_a", "events_a");
        awaitEqual("events_b", "events_b");
    }
}
