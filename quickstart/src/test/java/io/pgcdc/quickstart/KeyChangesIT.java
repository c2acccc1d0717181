package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * An update of a row's key that leaves a large (TOASTed) value alone keeps that value in the OLAP table, under
 * either replica identity: the source sends a delete and a create naming each other's key, and the sink moves the
 * stored row to its new key. In a topic of three partitions read by two sink tasks the two halves of a key change
 * arrive in either order.
 */
class KeyChangesIT {

    private static final String OLTP = "app";
    private static final String OLAP = "olap";
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.createDatabase(OLTP);
        pg.createDatabase(OLAP);
        connect = PluginWorker.start("key-changes", Map.of());
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

    @ParameterizedTest
    @CsvSource({"default, 1", "full, 1", "default, 3"})
    void aKeyChangeKeepsTheLargeValueItLeftAlone(String identity, int partitions) throws Exception {
        String table = "docs_" + identity + "_" + partitions;
        // 10 KB of text stored out of line, uncompressed: an update that leaves it alone does not send it.
        pg.execute(OLTP, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, body text, note text, "
                        + "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                "ALTER TABLE " + table + " ALTER COLUMN body SET STORAGE EXTERNAL",
                "ALTER TABLE " + table + " REPLICA IDENTITY " + identity,
                "INSERT INTO " + table + " (id, body, note) SELECT g, repeat(md5(g::text), 320), 'snapshot' "
                        + "FROM generate_series(1, 40) g");
        pg.execute(OLAP, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, body text, note text, updated_at timestamptz, "
                + "pgcdc_position numeric)");
        String name = "moves_" + identity + "_" + partitions;
        String topic = name + ".public." + table;
        Map<String, String> source = PluginWorker.source(name, pg.host(), pg.port(), OLTP, "postgres", "public\\." + table);
        source.put("topic.creation.default.partitions", String.valueOf(partitions));
        Map<String, String> sink = PluginWorker.sink(name + "-sink", pg.jdbcUrl(OLAP), "postgres", topic);
        int sinkTasks = Math.min(partitions, 2);
        sink.put("tasks.max", String.valueOf(sinkTasks));
        connect.configureConnector(name, source);
        ConnectorStatus.awaitRunning(connect, name, PluginWorker.TIMEOUT);
        connect.configureConnector(name + "-sink", sink);
        Await.until(PluginWorker.TIMEOUT, () -> "the sink's " + sinkTasks + " tasks to run: "
                + ConnectorStatus.describe(connect, name + "-sink"), () -> {
                    var tasks = connect.connectorStatus(name + "-sink").tasks();
                    return tasks.size() == sinkTasks && tasks.stream().allMatch(t -> "RUNNING".equals(t.state()));
                });
        awaitEqual(table);

        pg.execute(OLTP,
                // Keys changed, the large value left alone: many in one transaction, then one at a time.
                "UPDATE " + table + " SET id = id + 1000, note = 'moved' WHERE id % 2 = 0",
                "UPDATE " + table + " SET id = 101, updated_at = clock_timestamp() WHERE id = 1",
                "UPDATE " + table + " SET id = 103, updated_at = clock_timestamp() WHERE id = 3",
                // The freed key used again; a moved row changed, another deleted.
                "INSERT INTO " + table + " (id, body, note) VALUES (1, 'a new row', 'reused')",
                "UPDATE " + table + " SET note = 'changed after its move', updated_at = clock_timestamp() WHERE id = 1004",
                "DELETE FROM " + table + " WHERE id = 1006");
        if (partitions == 1) {
            // A chain of key changes in one transaction. Across partitions a chain is not kept whole: the second
            // create can be written before the first move, when the row it would move is not yet there.
            pg.execute(OLTP, "BEGIN; UPDATE " + table + " SET id = 2005 WHERE id = 5; UPDATE " + table
                    + " SET id = 3005 WHERE id = 2005; COMMIT");
        }
        awaitEqual(table);
        assertEquals("19", pg.queryValue(OLAP, "SELECT count(*) FROM " + table
                + " WHERE id > 1000 AND id < 2000 AND length(body) = 10240"), "moved rows kept their bodies");

        // Each delete names the new key and each create the old, in Debezium's headers.
        List<String> headers = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : connect.kafka().consumeAll(Duration.ofSeconds(30).toMillis(), topic)) {
            for (Header header : record.headers()) {
                if (header.key().startsWith("__debezium.")) {
                    headers.add(header.key() + "=" + new String(header.value(), StandardCharsets.UTF_8));
                }
            }
        }
        assertEquals(2 * (22 + (partitions == 1 ? 2 : 0)), headers.size(), headers.toString());
        assertTrue(headers.containsAll(List.of("__debezium.newkey={\"id\":101}", "__debezium.oldkey={\"id\":1}")),
                headers.toString());
        connect.deleteConnector(name + "-sink");
        connect.deleteConnector(name);
    }

    private static List<String> rows(String database, String table) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = pg.connect(database); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, md5(body), note FROM " + table + " ORDER BY id")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3));
            }
        }
        return rows;
    }

    private static void awaitEqual(String table) {
        Await.until(PluginWorker.TIMEOUT, () -> "OLAP " + table + " equal to OLTP's: " + diff(table),
                () -> rows(OLAP, table).equals(rows(OLTP, table)));
    }

    private static String diff(String table) {
        try {
            List<String> olap = rows(OLAP, table);
            List<String> oltp = rows(OLTP, table);
            List<String> missing = new ArrayList<>(oltp);
            missing.removeAll(olap);
            List<String> extra = new ArrayList<>(olap);
            extra.removeAll(oltp);
            return "missing " + missing + ", unexpected " + extra;
        } catch (Exception e) {
            return e.toString();
        }
    }
}
