package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.TIMEOUT;
import static io.pgcdc.source.SourceIntegrationSupport.awaitRunning;
import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Future;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.apache.kafka.connect.util.clusters.WorkerHandle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectCluster;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.TopicReader;

/**
 * Faults during a concurrent write load: restarts through REST, a replaced worker, a killed
 * walsender, a restarted and a crashed database, a stalled consumer. Afterwards every
 * committed change is in Kafka exactly once.
 */
class SourceRecoveryIT {

    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() {
        pg = PostgresServer.start();
        // Reassign a departed worker's connectors after 2 s instead of 5 minutes.
        connect = ConnectCluster.start("source-recovery", 1, Map.of("scheduled.rebalance.max.delay.ms", "2000"));
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

    private static long walsenderPid(String slot) throws Exception {
        String pid = pg.queryValue("postgres", "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        return pid == null ? -1 : Long.parseLong(pid);
    }

    private static long kafkaCount(TopicReader reader) {
        return reader.poll(Duration.ofMillis(100)).size();
    }

    /** Guarantee 2: restarts of every kind through REST and a replaced worker, including mid large transaction. */
    @Test
    @Tag("compat")
    void restartsLoseNothingAndDuplicateNothing() throws Exception {
        pg.createDatabase("restarts");
        String name = "restarts";
        try (WriteLoad load = new WriteLoad(pg, "restarts", name, 3);
             TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\..*")) {
            connect.configureConnector(name, sourceConfig(pg, "restarts", name, WriteLoad.tables()));
            awaitRunning(connect, name);
            load.start();
            for (int round = 0; round < 2; round++) {
                awaitProgress(reader);
                connect.restartConnectorAndTasks(name, false, true, false);
                awaitRunning(connect, name);
                awaitProgress(reader);
                connect.restartTask(name, 0);
                awaitRunning(connect, name);
                awaitProgress(reader);
                WorkerHandle old = connect.workers().iterator().next();
                connect.addWorker();
                connect.removeWorker(old);
                awaitRunning(connect, name);

                // A task restart while a large transaction is half emitted.
                long before = kafkaCount(reader);
                Future<?> large = load.largeTransaction(100_000, 1_000_000_000_000L * (round + 1));
                large.get();
                Await.until(TIMEOUT, "part of the large transaction in Kafka", () -> kafkaCount(reader) > before + 20_000);
                connect.restartTask(name, 0);
                awaitRunning(connect, name);
            }
            load.close();
            load.verify(reader, Duration.ofMinutes(3));
        }
        connect.deleteConnector(name);
    }

    /** Guarantee 6: the walsender killed, the database restarted and crashed: the task reconnects and loses nothing. */
    @Test
    @Tag("compat")
    void lostConnectionsAndDatabaseRestartsAreSurvived() throws Exception {
        pg.createDatabase("faults");
        String name = "faults";
        try (WriteLoad load = new WriteLoad(pg, "faults", name, 3);
             TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\..*")) {
            connect.configureConnector(name, sourceConfig(pg, "faults", name, WriteLoad.tables()));
            awaitRunning(connect, name);
            load.start();
            for (int round = 0; round < 2; round++) {
                awaitProgress(reader);
                long pid = walsenderPid(name);
                pg.execute("postgres", "SELECT pg_terminate_backend(" + pid + ")");
                Await.until(TIMEOUT, "a new walsender", () -> {
                    long now = walsenderPid(name);
                    return now > 0 && now != pid;
                });
            }
            awaitProgress(reader);
            pg.restart();
            awaitProgress(reader);
            pg.stop(true);
            pg.startAgain();
            awaitProgress(reader);
            awaitRunning(connect, name);
            load.close();
            load.verify(reader, Duration.ofMinutes(3));
        }
        connect.deleteConnector(name);
    }

    /** Guarantee 7: a consumer stalled past wal_sender_timeout does not lose its replication connection. */
    @Test
    void stalledConsumerKeepsItsConnection() throws Exception {
        pg.createDatabase("stall");
        pg.execute("stall", "CREATE TABLE items (id int PRIMARY KEY, v text)");
        pg.execute("postgres", "ALTER SYSTEM SET wal_sender_timeout = '2s'", "SELECT pg_reload_conf()");
        try {
            String name = "stall";
            Map<String, String> config = sourceConfig(pg, "stall", name, "public\\.items");
            config.put("max.queue.size", "50");
            config.put("max.batch.size", "10");
            connect.configureConnector(name, config);
            awaitRunning(connect, name);
            // Streaming starts after the (empty) initial snapshot: wait for the walsender that streams.
            Await.until(TIMEOUT, "the slot to stream", () -> walsenderPid(name) > 0
                    && "streaming".equals(pg.queryValue("postgres", "SELECT state FROM pg_stat_replication WHERE pid = "
                            + walsenderPid(name))));
            long pid = walsenderPid(name);
            connect.pauseConnector(name);
            Await.until(TIMEOUT, "the connector to pause", () -> "PAUSED".equals(connect.connectorStatus(name).tasks().get(0).state()));
            pg.execute("stall", "INSERT INTO items SELECT g, repeat('v', 100) FROM generate_series(1, 5000) g");
            Await.holds(Duration.ofSeconds(7), "the walsender stays connected while nothing is consumed",
                    () -> walsenderPid(name) == pid);
            connect.resumeConnector(name);
            try (TopicReader reader = new TopicReader(connect.kafka(), name + "\\.public\\.items")) {
                reader.readUntil(TIMEOUT, "all 5000 rows", m -> m.size() >= 5000);
                assertEquals(5000, reader.poll(Duration.ofSeconds(1)).size());
            }
            assertEquals(pid, walsenderPid(name), "never reconnected");
            connect.deleteConnector(name);
        } finally {
            pg.execute("postgres", "ALTER SYSTEM RESET wal_sender_timeout", "SELECT pg_reload_conf()");
        }
    }

    /** Waits until more records arrive, so that the next fault strikes a moving stream. */
    private static void awaitProgress(TopicReader reader) {
        long before = kafkaCount(reader);
        Await.until(TIMEOUT, "records to keep flowing", () -> kafkaCount(reader) > before + 50);
    }
}
