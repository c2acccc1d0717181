package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.TIMEOUT;
import static io.pgcdc.source.SourceIntegrationSupport.awaitRunning;
import static io.pgcdc.source.SourceIntegrationSupport.confirmedFlush;
import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static io.pgcdc.source.SourceIntegrationSupport.validationErrors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectCluster;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.ServerAndWorker;
import io.pgcdc.testsupport.TcpProxy;
import io.pgcdc.testsupport.TopicReader;

/**
 * slot.failover: validation says what the server lacks for a failover slot; on PostgreSQL 17+ the slot is
 * created as one, or switched on when it exists, and stays one, streaming, across a restart of the task.
 * A physical replication stream that confirms what it receives stands in for the standby whose slot
 * synchronized_standby_slots names (the logical slot waits for it).
 */
@Tag("compat")
class FailoverSlotIT {

    private static final String DB = "app";
    @RegisterExtension
    static final ServerAndWorker BED = new ServerAndWorker(() -> ConnectCluster.start("failover", 1, Map.of()), DB);

    @BeforeAll
    static void createTable() throws Exception {
        BED.pg().execute(DB, "CREATE TABLE orders (id int PRIMARY KEY, note text)");
    }

    private static Map<String, String> failoverConfig(String name) {
        Map<String, String> config = sourceConfig(BED.pg(), DB, name, "public\\.orders");
        config.put("name", name);
        config.put("slot.failover", "true");
        return config;
    }

    @Test
    void validationSaysWhatTheServerLacksForAFailoverSlot() throws Exception {
        Map<String, String> config = failoverConfig("checked");
        if (BED.pg().majorVersion() < 17) {
            String error = validationErrors(BED.connect(), config).get("slot.failover").get(0);
            assertTrue(error.contains("needs PostgreSQL 17 or later") && error.contains("PostgreSQL " + BED.pg().majorVersion()), error);
            return;
        }
        String error = validationErrors(BED.connect(), config).get("slot.failover").get(0);
        assertTrue(error.contains("synchronized_standby_slots is empty") && error.contains("sync_replication_slots"), error);
        config.put("slot.failover", "false");
        assertNull(validationErrors(BED.connect(), config).get("slot.failover"));
    }

    @Test
    void aFailoverSlotIsCreatedOrSwitchedOnAndStaysOneAcrossARestart() throws Exception {
        assumeTrue(BED.pg().majorVersion() >= 17, "failover slots need PostgreSQL 17");
        BED.pg().execute("postgres", "SELECT pg_create_physical_replication_slot('standby_1', true)");
        try (StandbyStandIn standby = new StandbyStandIn("standby_1")) {
            BED.pg().execute("postgres", "ALTER SYSTEM SET synchronized_standby_slots = 'standby_1'", "SELECT pg_reload_conf()");
            Await.until(TIMEOUT, "the setting loaded",
                    () -> "standby_1".equals(BED.pg().queryValue("postgres", "SHOW synchronized_standby_slots")));
            assertEquals(Map.of(), validationErrors(BED.connect(), failoverConfig("created")));

            // A slot the connector creates, and one that exists without failover (made by hand, say).
            BED.pg().execute(DB, "SELECT pg_create_logical_replication_slot('switched', 'pgoutput')");
            assertEquals("false", failover("switched"));
            Map<String, String> switched = failoverConfig("switched");
            switched.put("snapshot.mode", "never");
            try (TopicReader created = new TopicReader(BED.connect().kafka(), "created\\.public\\.orders");
                 TopicReader existing = new TopicReader(BED.connect().kafka(), "switched\\.public\\.orders")) {
                BED.connect().configureConnector("created", failoverConfig("created"));
                BED.connect().configureConnector("switched", switched);
                awaitRunning(BED.connect(), "created");
                awaitRunning(BED.connect(), "switched");
                BED.pg().execute(DB, "INSERT INTO orders SELECT g, 'first' FROM generate_series(1, 10) g");
                created.readUntil(TIMEOUT, "10 rows", messages -> messages.size() >= 10);
                existing.readUntil(TIMEOUT, "10 rows", messages -> messages.size() >= 10);
                assertEquals("true", failover("created"));
                assertEquals("true", failover("switched"));

                for (String name : List.of("created", "switched")) {
                    BED.connect().stopConnector(name);
                }
                Await.until(TIMEOUT, "both slots released", () -> "0".equals(BED.pg().queryValue("postgres",
                        "SELECT count(*) FROM pg_replication_slots WHERE slot_type = 'logical' AND active")));
                BED.pg().execute(DB, "INSERT INTO orders SELECT g, 'second' FROM generate_series(11, 20) g");
                for (String name : List.of("created", "switched")) {
                    BED.connect().resumeConnector(name);
                }
                assertEquals(20, created.readUntil(TIMEOUT, "20 rows", messages -> messages.size() >= 20).size());
                assertEquals(20, existing.readUntil(TIMEOUT, "20 rows", messages -> messages.size() >= 20).size());
                assertEquals("true", failover("created"));
                assertEquals("true", failover("switched"));
            }
            BED.connect().deleteConnector("created");
            BED.connect().deleteConnector("switched");
        } finally {
            BED.pg().execute("postgres", "ALTER SYSTEM RESET synchronized_standby_slots", "SELECT pg_reload_conf()");
        }
    }

    /**
     * The failover itself: the primary crashes, its standby (sync_replication_slots = on) is promoted, and the
     * task, behind an address that now leads to the standby, resumes from the standby's copy of the slot: every
     * row arrives once, none is lost.
     */
    @Test
    void afterAFailoverTheTaskResumesFromThePromotedStandbysCopyOfTheSlot() throws Exception {
        assumeTrue(BED.pg().majorVersion() >= 17, "failover slots need PostgreSQL 17");
        PostgresServer primary = PostgresServer.startUnmanaged(Map.of());
        PostgresServer standby = null;
        try {
            primary.createDatabase(DB);
            primary.execute(DB, "CREATE TABLE orders (id int PRIMARY KEY, note text)",
                    "SELECT pg_create_physical_replication_slot('standby_1', true)");
            standby = primary.standby(Map.of("primary_conninfo", "'host=127.0.0.1 port=" + primary.port()
                            + " user=postgres dbname=" + DB + "'", "primary_slot_name", "'standby_1'",
                    "hot_standby_feedback", "on", "sync_replication_slots", "on"));
            primary.execute("postgres", "ALTER SYSTEM SET synchronized_standby_slots = 'standby_1'", "SELECT pg_reload_conf()");
            try (TcpProxy address = new TcpProxy(primary.port());
                 TopicReader reader = new TopicReader(BED.connect().kafka(), "ha\\.public\\.orders")) {
                Map<String, String> config = failoverConfig("ha");
                config.put("database.port", String.valueOf(address.port()));
                BED.connect().configureConnector("ha", config);
                awaitRunning(BED.connect(), "ha");
                primary.execute(DB, "INSERT INTO orders SELECT g, 'before' FROM generate_series(1, 100) g");
                long written = Long.parseLong(primary.queryValue(DB, "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));
                reader.readUntil(TIMEOUT, "100 rows", messages -> messages.size() >= 100);
                Await.until(TIMEOUT, "the slot confirmed past the rows", () -> confirmedFlush(primary, "ha") >= written);
                PostgresServer copy = standby;
                Await.until(TIMEOUT, "the standby's copy of the slot caught up", () -> "true".equals(copy.queryValue(
                        "postgres", "SELECT synced::text FROM pg_replication_slots WHERE slot_name = 'ha'"))
                        && confirmedFlush(copy, "ha") >= written);

                primary.stop(true);
                standby.promote();
                address.target(standby.port());
                standby.execute(DB, "INSERT INTO orders SELECT g, 'after' FROM generate_series(101, 150) g");
                reader.readUntil(TIMEOUT, "150 rows", messages -> messages.size() >= 150);
                List<Integer> ids = reader.poll(Duration.ofSeconds(3)).stream()
                        .map(m -> m.value().get("after").get("id").asInt()).toList();
                assertEquals(java.util.stream.IntStream.rangeClosed(1, 150).boxed().toList(), ids,
                        "every row once, in order, across the failover");
                assertRunning("ha");
            } finally {
                BED.connect().deleteConnector("ha");
            }
        } finally {
            if (standby != null) {
                standby.close();
            }
            primary.close();
        }
    }

    private static void assertRunning(String name) {
        assertEquals("RUNNING", BED.connect().connectorStatus(name).tasks().get(0).state());
    }

    private static String failover(String slot) throws Exception {
        return BED.pg().queryValue("postgres", "SELECT failover::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    /** Streams WAL over a physical slot and confirms all it receives, as a standby would. */
    private static final class StandbyStandIn implements AutoCloseable {
        private final Connection connection;
        private final PGReplicationStream stream;
        private final Thread reader;
        private volatile boolean running = true;

        StandbyStandIn(String slot) throws Exception {
            Properties props = new Properties();
            PGProperty.USER.set(props, "postgres");
            PGProperty.REPLICATION.set(props, "true");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
            PGProperty.PREFER_QUERY_MODE.set(props, "simple");
            connection = DriverManager.getConnection(BED.pg().jdbcUrl("postgres"), props);
            LogSequenceNumber now = LogSequenceNumber.valueOf(BED.pg().queryValue("postgres", "SELECT pg_current_wal_lsn()::text"));
            stream = connection.unwrap(PGConnection.class).getReplicationAPI().replicationStream().physical()
                    .withSlotName(slot).withStartPosition(now).withStatusInterval(200, TimeUnit.MILLISECONDS).start();
            reader = new Thread(this::confirmAll, "standby-stand-in");
            reader.start();
        }

        private void confirmAll() {
            try {
                while (running) {
                    ByteBuffer message = stream.readPending();
                    if (message == null) {
                        Thread.sleep(10);
                        continue;
                    }
                    stream.setFlushedLSN(stream.getLastReceiveLSN());
                    stream.setAppliedLSN(stream.getLastReceiveLSN());
                }
            } catch (Exception e) {
                if (running) {
                    throw new IllegalStateException(e);
                }
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            reader.join(10_000);
            stream.close();
            connection.close();
        }
    }
}
