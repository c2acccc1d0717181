package io.pgcdc.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectCluster;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * The zero-downtime migration case: a whole schema replicated into an empty PostgreSQL by the two
 * connectors (loaded from their packaged plugins, configured through REST), the target tables made
 * by the sink's auto.create and extended by auto.evolve when columns are added at the source while
 * writers run; then, with the writers stopped, the cutover check reports every table equal, and it
 * reports the one table that differs after a target row is changed behind the pipeline's back.
 */
class WholeDatabaseReplicationIT {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final String SOURCE = "shop-source";
    private static final String SINK = "shop-sink";
    private static final String SLOT = "shop_cutover";
    private static final List<String> TABLES = List.of("audit", "customers", "order_lines", "orders", "products");

    @Test
    void snapshotAndStreamReplicateTheDatabaseAndTheCheckSaysWhenItIsSafeToSwitch() throws Exception {
        try (PostgresServer oltp = PostgresServer.start(); PostgresServer replica = PostgresServer.start()) {
            oltp.createDatabase("shop");
            oltp.execute("shop", ShopWorkload.SCHEMA);
            oltp.execute("shop", ShopWorkload.HISTORY);
            replica.createDatabase("shop");
            // The sink creates tables, not schemas; the migrated tables go to another schema name here.
            replica.execute("shop", "CREATE SCHEMA migrated");
            Map<String, String> worker = new HashMap<>();
            worker.put("plugin.path", System.getProperty("pgcdc.plugin.path"));
            // auto.create needs the records' schemas.
            worker.put("key.converter.schemas.enable", "true");
            worker.put("value.converter.schemas.enable", "true");
            EmbeddedConnectCluster connect = ConnectCluster.start("whole-database", 1, worker);
            try {
                replicateWhileWriting(connect, oltp, replica);
                // Quiesced: no writes to the source from here on, as at a cutover.
                Run equal = check(replica, oltp, "--wait=" + TIMEOUT.toSeconds());
                assertEquals(0, equal.exitCode(), equal + "\n" + ConnectorStatus.describe(connect, SINK));
                for (String table : TABLES) {
                    assertTrue(equal.out().matches("(?s).*\nequal    shop\\." + table + " -> migrated\\." + table
                            + ": [1-9][0-9,]* rows, checksum [0-9a-f]{16}\n.*"), table + ": " + equal);
                }
                assertTrue(equal.out().matches("(?s).*\nslot " + SLOT + " \\(active\\): confirmed to .*"), equal.toString());
                assertTrue(equal.out().endsWith("EQUAL: all 5 tables have the same rows on the source and the target\n"),
                        equal.toString());
                assertEquals("numeric(8,1)", replica.queryValue("shop", "SELECT format_type(atttypid, atttypmod) "
                        + "FROM pg_attribute WHERE attrelid = 'migrated.customers'::regclass AND attname = 'points'"));

                replica.execute("shop", "UPDATE migrated.order_lines SET qty = qty + 1 "
                        + "WHERE (order_id, line) = (SELECT order_id, line FROM migrated.order_lines ORDER BY 1, 2 LIMIT 1)");
                Run differs = check(replica, oltp);
                assertEquals(1, differs.exitCode(), differs.toString());
                assertTrue(differs.out().contains("\ndiffers  shop.order_lines -> migrated.order_lines: rows "), differs.toString());
                assertTrue(differs.out().contains("NOT EQUAL: 1 of 5 tables differ (shop.order_lines -> migrated.order_lines)"),
                        differs.toString());
            } finally {
                connect.stop();
            }
        }
    }

    /** Snapshot and stream with writers running, a schema change among them; returns once the writers stopped. */
    private static void replicateWhileWriting(EmbeddedConnectCluster connect, PostgresServer oltp, PostgresServer replica)
            throws Exception {
        try (ShopWorkload writers = new ShopWorkload(oltp, "shop", 2)) {
            // Writers commit while the snapshot reads and after it.
            connect.configureConnector(SOURCE, sourceConfig(oltp));
            connect.configureConnector(SINK, sinkConfig(replica));
            ConnectorStatus.awaitRunning(connect, SOURCE, TIMEOUT);
            ConnectorStatus.awaitRunning(connect, SINK, TIMEOUT);
            awaitSnapshotDone();
            long afterSnapshot = writers.transactions();
            Await.until(TIMEOUT, "writes streamed after the snapshot", () -> writers.transactions() > afterSnapshot + 200);
            Await.until(TIMEOUT, "every table created on the target", () -> allExist(replica));

            oltp.execute("shop", ShopWorkload.EVOLVE);
            writers.evolved();
            Await.until(TIMEOUT, "the added columns on the target (auto.evolve)",
                    () -> hasColumn(replica, "customers", "points") && hasColumn(replica, "orders", "gift"));
            long afterEvolve = writers.transactions();
            Await.until(TIMEOUT, "writes to the added columns", () -> writers.transactions() > afterEvolve + 200);
        }
    }

    private static Map<String, String> sourceConfig(PostgresServer oltp) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", "io.pgcdc.source.PgSourceConnector");
        config.put("tasks.max", "1");
        config.put("database.hostname", oltp.host());
        config.put("database.port", String.valueOf(oltp.port()));
        config.put("database.user", "postgres");
        config.put("database.dbname", "shop");
        config.put("database.sslmode", "disable");
        config.put("slot.name", SLOT);
        config.put("publication.name", SLOT);
        config.put("publication.autocreate.mode", "filtered");
        config.put("table.include.list", "shop\\..*");
        config.put("snapshot.mode", "initial");
        config.put("topic.prefix", "app");
        config.put("status.update.interval.ms", "1000");
        config.put("topic.creation.default.partitions", "1");
        config.put("topic.creation.default.replication.factor", "1");
        return config;
    }

    private static Map<String, String> sinkConfig(PostgresServer replica) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", "io.pgcdc.sink.PgSinkConnector");
        config.put("tasks.max", "1");
        config.put("topics.regex", "app\\.shop\\..*");
        config.put("connection.url", replica.jdbcUrl("shop"));
        config.put("connection.username", "postgres");
        config.put("table.name.format", "migrated.${source.table}");
        config.put("auto.create", "true");
        config.put("auto.evolve", "true");
        // The tables have no updated_at to guard on: the sink keeps each row's source position in a column of its own.
        config.put("upsert.guard.mode", "source_lsn");
        config.put("upsert.guard.column", "_pgcdc_lsn");
        // Topics appear as the snapshot reaches their tables.
        config.put("consumer.override.metadata.max.age.ms", "1000");
        return config;
    }

    private static void awaitSnapshotDone() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName task = new ObjectName("io.pgcdc:type=source-task-metrics,connector=" + SOURCE + ",task=0");
        Await.until(TIMEOUT, "the snapshot of all tables", () -> (Long) server.getAttribute(task, "SnapshotTablesDone") == TABLES.size()
                && (Long) server.getAttribute(task, "SnapshotRunning") == 0);
    }

    private static boolean exists(PostgresServer replica, String table) throws Exception {
        return replica.queryValue("shop", "SELECT to_regclass('migrated." + table + "')") != null;
    }

    private static boolean allExist(PostgresServer replica) throws Exception {
        for (String table : TABLES) {
            if (!exists(replica, table)) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasColumn(PostgresServer replica, String table, String column) throws Exception {
        return exists(replica, table) && replica.queryValue("shop", "SELECT 1 FROM pg_attribute WHERE attrelid = 'migrated."
                + table + "'::regclass AND attname = '" + column + "'") != null;
    }

    private record Run(int exitCode, String out) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + out;
        }
    }

    /** The cutover check as an operator runs it. */
    private static Run check(PostgresServer replica, PostgresServer oltp, String... more) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        List<String> args = new ArrayList<>(List.of("--source=" + oltp.jdbcUrl("shop") + "?user=postgres",
                "--target=" + replica.jdbcUrl("shop") + "?user=postgres", "--tables=shop\\..*",
                "--table-format=migrated.${source.table}", "--slot=" + SLOT));
        args.addAll(List.of(more));
        int code = CompareCommand.run(args.toArray(String[]::new), out, out);
        System.out.print(buffer.toString(StandardCharsets.UTF_8)); // into the test's log, next to the connectors'
        return new Run(code, buffer.toString(StandardCharsets.UTF_8));
    }
}
