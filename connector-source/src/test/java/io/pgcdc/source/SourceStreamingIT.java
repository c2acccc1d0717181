package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.TIMEOUT;
import static io.pgcdc.source.SourceIntegrationSupport.awaitRunning;
import static io.pgcdc.source.SourceIntegrationSupport.awaitTaskFailure;
import static io.pgcdc.source.SourceIntegrationSupport.confirmedFlush;
import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static io.pgcdc.source.SourceIntegrationSupport.validationErrors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.management.ObjectName;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

import com.fasterxml.jackson.databind.JsonNode;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectCluster;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.RemoteJmx;
import io.pgcdc.testsupport.TopicReader;
import io.pgcdc.testsupport.TopicReader.Message;

/** The source against a real PostgreSQL and a real Connect worker, configured through REST. */
@Tag("compat")
class SourceStreamingIT {

    private static final String DB = "app";
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        if (pg.majorVersion() >= 13) {
            // Small, so that a transaction of a thousand rows is spilled to disk while it is decoded.
            pg.execute("postgres", "ALTER SYSTEM SET logical_decoding_work_mem = '64kB'", "SELECT pg_reload_conf()");
        }
        pg.createDatabase(DB);
        pg.execute(DB, "CREATE TYPE mood AS ENUM ('sad', 'happy')");
        connect = ConnectCluster.start("source-streaming", 1, Map.of());
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

    private static List<Message> changes(List<Message> messages) {
        return messages.stream().filter(m -> m.value() != null).toList();
    }

    @Test
    void validationThroughRestNamesTheSettingThatIsWrong() throws Exception {
        pg.execute(DB, "CREATE TABLE validated (id int PRIMARY KEY)", "CREATE TABLE unkeyed (v text)",
                "CREATE ROLE checked LOGIN", "CREATE ROLE streamer LOGIN REPLICATION",
                "SELECT pg_create_logical_replication_slot('decoded', 'test_decoding')");
        Map<String, String> good = sourceConfig(pg, DB, "validated", "public\\.validated");
        good.put("name", "validated");
        assertEquals(Map.of(), validationErrors(connect, good));

        Map<String, String> wrongPort = new java.util.HashMap<>(good);
        wrongPort.put("database.port", "1");
        assertTrue(validationErrors(connect, wrongPort).get("database.hostname").get(0).startsWith("Cannot connect to PostgreSQL at"));

        // Placed into the JDBC URL unchecked, this would choose the database and override database.sslmode.
        Map<String, String> urlInHost = new java.util.HashMap<>(good);
        urlInHost.put("database.hostname", pg.host() + ":" + pg.port() + "/" + DB + "?sslmode=disable&");
        assertTrue(validationErrors(connect, urlInHost).getOrDefault("database.hostname", List.of("no error")).get(0)
                .contains("not a host name or IP address"), () -> validationErrors(connect, urlInHost).toString());

        Map<String, String> noReplication = new java.util.HashMap<>(good);
        noReplication.put("database.user", "checked");
        assertTrue(validationErrors(connect, noReplication).get("database.user").get(0).contains("lacks the REPLICATION attribute"));

        Map<String, String> noSelect = new java.util.HashMap<>(good);
        noSelect.put("database.user", "streamer");
        assertTrue(validationErrors(connect, noSelect).get("table.include.list").get(0)
                .contains("may not SELECT from \"public\".\"validated\""));

        Map<String, String> noTable = new java.util.HashMap<>(good);
        noTable.put("table.include.list", "public\\.missing");
        assertTrue(validationErrors(connect, noTable).get("table.include.list").get(0).startsWith("No table in"));

        Map<String, String> unkeyed = new java.util.HashMap<>(good);
        unkeyed.put("table.include.list", "public\\.unkeyed");
        assertTrue(validationErrors(connect, unkeyed).get("table.include.list").get(0).contains("without primary key"));

        Map<String, String> otherPlugin = new java.util.HashMap<>(good);
        otherPlugin.put("slot.name", "decoded");
        assertTrue(validationErrors(connect, otherPlugin).get("slot.name").get(0).contains("uses plugin test_decoding"));

        Map<String, String> badSetting = new java.util.HashMap<>(good);
        badSetting.put("snapshot.mode", "sometimes");
        assertEquals(Set.of("snapshot.mode"), validationErrors(connect, badSetting).keySet(), "no connection tried for a bad value");

        assertNull(pg.queryValue(DB, "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'validated'"),
                "validating creates nothing");
        pg.execute(DB, "SELECT pg_drop_replication_slot('decoded')");
    }

    /** The task's MBean, read over a remote JMX connection, moves as the data does. */
    @Test
    void metricsFollowTheDataOverRemoteJmx() throws Exception {
        pg.execute(DB, "CREATE TABLE metered (id int PRIMARY KEY, v text)");
        connect.configureConnector("metered", sourceConfig(pg, DB, "metered", "public\\.metered"));
        awaitRunning(connect, "metered");
        String bean = "io.pgcdc:type=source-task-metrics,connector=metered,task=0";
        try (RemoteJmx jmx = RemoteJmx.start()) {
            assertEquals(Set.of(new ObjectName(bean)), jmx.names("io.pgcdc:type=source-task-metrics,connector=metered,*"));
            pg.execute(DB, "INSERT INTO metered SELECT g, 'x' FROM generate_series(1, 10) g");
            pg.execute(DB, "UPDATE metered SET v = 'y' WHERE id <= 4");
            pg.execute(DB, "DELETE FROM metered WHERE id > 8");
            long walEnd = Long.parseLong(pg.queryValue(DB, "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));
            Await.until(TIMEOUT, "16 changes counted", () -> jmx.number(bean, "ChangesEmitted") == 16);
            assertEquals(10, jmx.number(bean, "Creates"));
            assertEquals(4, jmx.number(bean, "Updates"));
            assertEquals(2, jmx.number(bean, "Deletes"));
            assertEquals(3, jmx.number(bean, "TransactionsEmitted"));
            assertEquals(10, jmx.number(bean, "LargestTransactionChanges"));
            Await.until(TIMEOUT, "the slot confirmed past the writes, as the task and the server see it",
                    () -> jmx.number(bean, "ConfirmedLsn") >= walEnd && jmx.number(bean, "SlotConfirmedFlushLsn") >= walEnd
                            && jmx.number(bean, "LastReceivedLsn") >= walEnd);
            assertTrue(jmx.number(bean, "SlotRetainedWalBytes") > 0);
            assertTrue(jmx.number(bean, "LagBytes") >= 0);

            // Paused, the task takes nothing: the reader fills the queue, which drains on resume.
            connect.pauseConnector("metered");
            Await.until(TIMEOUT, "the task paused",
                    () -> "PAUSED".equals(connect.connectorStatus("metered").tasks().get(0).state()));
            pg.execute(DB, "INSERT INTO metered SELECT g, 'z' FROM generate_series(100, 1099) g");
            Await.until(TIMEOUT, "1000 records queued", () -> jmx.number(bean, "QueueRecords") == 1000);
            assertTrue(jmx.number(bean, "QueueBytes") > 1000 * 20);
            connect.resumeConnector("metered");
            Await.until(TIMEOUT, "the queue drained", () -> jmx.number(bean, "QueueRecords") == 0
                    && jmx.number(bean, "ChangesEmitted") == 1016);
            if (pg.majorVersion() >= 14) {
                Await.until(TIMEOUT, "the thousand-row transaction counted as spilled (pg_stat_replication_slots)",
                        () -> jmx.number(bean, "SlotSpillTransactions") >= 1 && jmx.number(bean, "SlotSpillBytes") > 0);
            } else {
                assertEquals(-1, jmx.number(bean, "SlotSpillBytes"), "no spill statistics before PostgreSQL 14");
            }

            pg.execute(DB, "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'metered'");
            Await.until(TIMEOUT, "one reconnect counted", () -> jmx.number(bean, "Reconnects") == 1);
            pg.execute(DB, "INSERT INTO metered VALUES (5000, 'after')");
            Await.until(TIMEOUT, "streaming again", () -> jmx.number(bean, "ChangesEmitted") == 1017);
            assertEquals(-1, jmx.number(bean, "TransactionInFlightXid"));

            connect.deleteConnector("metered");
            Await.until(TIMEOUT, "the MBean unregistered",
                    () -> jmx.names("io.pgcdc:type=source-task-metrics,connector=metered,*").isEmpty());
        }
    }

    /** The background post's scenario: the first transaction to start commits last. */
    @Test
    void concurrentTransactionsArriveWholeAndInCommitOrder() throws Exception {
        pg.execute(DB, "CREATE TABLE orders (id int PRIMARY KEY, tx int, step int)");
        connect.configureConnector("ordering", sourceConfig(pg, DB, "ordering", "public\\.orders"));
        awaitRunning(connect, "ordering");

        int transactions = 6;
        int steps = 4;
        List<Connection> open = new ArrayList<>();
        for (int t = 0; t < transactions; t++) {
            Connection c = pg.connect(DB);
            c.setAutoCommit(false);
            open.add(c);
        }
        for (int step = 0; step < steps; step++) {
            for (int t = 0; t < transactions; t++) {
                try (Statement s = open.get(t).createStatement()) {
                    s.execute("INSERT INTO orders VALUES (" + (t * 100 + step) + ", " + t + ", " + step + ")");
                }
            }
        }
        for (int t = transactions - 1; t >= 0; t--) {
            open.get(t).commit();
            open.get(t).close();
        }

        try (TopicReader reader = new TopicReader(connect.kafka(), "ordering\\.public\\.orders")) {
            List<Message> records = reader.readUntil(TIMEOUT, "all inserts",
                    m -> m.size() >= transactions * steps);
            records = reader.poll(Duration.ofMillis(1500)); // a late duplicate would show up here
            assertEquals(transactions * steps, records.size(), "each change exactly once");
            List<Integer> order = new ArrayList<>();
            long previousCommit = -1;
            for (int i = 0; i < records.size(); i++) {
                JsonNode value = records.get(i).value();
                int tx = value.get("after").get("tx").asInt();
                assertEquals(transactions - 1 - i / steps, tx, "transaction " + tx + " at position " + i
                        + ": transactions arrive whole, in commit order");
                assertEquals(i % steps, value.get("after").get("step").asInt(), "changes in their order within the transaction");
                long commit = value.get("source").get("lsn_commit").asLong();
                assertTrue(commit >= previousCommit, "commit LSNs never go back");
                previousCommit = commit;
                order.add(tx);
            }
            assertEquals(transactions, new HashSet<>(order).size());
        }
        connect.deleteConnector("ordering");
    }

    @Test
    void everyTypeArrivesWithItsValue() throws Exception {
        pg.execute(DB, "CREATE TABLE types (id int PRIMARY KEY, i2 smallint, i8 bigint, num numeric(10,3), "
                + "num_free numeric, r real, d double precision, b boolean, t text, vc varchar(10), c char(3), u uuid, "
                + "j json, jb jsonb, by bytea, dt date, tm time, ts timestamp, tstz timestamptz, iv interval, e mood, "
                + "ai int[], at text[], m money)");
        Map<String, String> config = sourceConfig(pg, DB, "types", "public\\.types");
        config.put("publication.name", "Types Pub"); // a name that needs quoting in START_REPLICATION
        connect.configureConnector("types", config);
        awaitRunning(connect, "types");
        pg.execute(DB, "INSERT INTO types VALUES (1, 32767, 9223372036854775807, 12345.678, "
                + "3.14159265358979323846264338327950288, 1.5, 2.25, true, 'hello', 'var', 'ab', "
                + "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\":  1}', '{\"a\":  1}', '\\xdeadbeef', '2024-02-29', "
                + "'13:14:15.123456', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123456+02', "
                + "'1 year 2 mons 3 days 04:05:06.5', 'happy', '{1,NULL,3}', '{\"a b\",\"c,d\",NULL}', 1.5)",
                "INSERT INTO types (id) VALUES (2)");
        try (TopicReader reader = new TopicReader(connect.kafka(), "types\\.public\\.types")) {
            List<Message> records = reader.readUntil(TIMEOUT, "two rows", m -> m.size() >= 2);
            JsonNode row = records.get(0).value().get("after");
            assertEquals(32767, row.get("i2").asInt());
            assertEquals(Long.MAX_VALUE, row.get("i8").asLong());
            assertEquals("12345.678", row.get("num").decimalValue().toPlainString());
            assertEquals("3.14159265358979323846264338327950288", row.get("num_free").asText());
            assertEquals(1.5, row.get("r").asDouble());
            assertEquals(2.25, row.get("d").asDouble());
            assertTrue(row.get("b").asBoolean());
            assertEquals("hello", row.get("t").asText());
            assertEquals("var", row.get("vc").asText());
            assertEquals("ab ", row.get("c").asText());
            assertEquals("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", row.get("u").asText());
            assertEquals("{\"a\":  1}", row.get("j").asText(), "json keeps its text");
            assertEquals("{\"a\": 1}", row.get("jb").asText());
            assertEquals("3q2+7w==", row.get("by").asText(), "bytes, base64 in JSON");
            assertEquals(java.time.LocalDate.of(2024, 2, 29).toEpochDay(), row.get("dt").asLong());
            assertEquals(((13 * 60 + 14) * 60 + 15) * 1_000_000L + 123_456, row.get("tm").asLong());
            assertEquals(java.time.LocalDateTime.of(2024, 2, 29, 13, 14, 15)
                    .toEpochSecond(java.time.ZoneOffset.UTC) * 1_000_000L + 123_456, row.get("ts").asLong());
            assertEquals("2024-02-29T11:14:15.123456Z", row.get("tstz").asText());
            assertEquals("P1Y2M3DT4H5M6.5S", row.get("iv").asText());
            assertEquals("happy", row.get("e").asText());
            assertEquals("[1,null,3]", row.get("ai").toString());
            assertEquals("[\"a b\",\"c,d\",null]", row.get("at").toString());
            assertEquals("$1.50", row.get("m").asText(), "a type without a mapping travels as its text");
            JsonNode empty = records.get(1).value().get("after");
            for (String column : List.of("i2", "num", "num_free", "b", "u", "jb", "by", "dt", "tstz", "iv", "e", "ai", "m")) {
                assertTrue(empty.get(column).isNull(), column + " is null");
            }
        }
        connect.deleteConnector("types");
    }

    @Test
    void schemaChangesShowUpInTheNextRecordsWithoutRestart() throws Exception {
        pg.execute(DB, "CREATE TABLE evolving (id int PRIMARY KEY, a text)");
        Map<String, String> config = sourceConfig(pg, DB, "evolving", "public\\.evolving");
        config.put("skipped.operations", "none");
        connect.configureConnector("evolving", config);
        awaitRunning(connect, "evolving");
        pg.execute(DB, "INSERT INTO evolving VALUES (1, 'one')",
                "ALTER TABLE evolving ADD COLUMN b int DEFAULT 7",
                "INSERT INTO evolving VALUES (2, 'two', 8)",
                "ALTER TABLE evolving DROP COLUMN a",
                "INSERT INTO evolving VALUES (3, 9)",
                "TRUNCATE evolving");
        try (TopicReader reader = new TopicReader(connect.kafka(), "evolving\\.public\\.evolving")) {
            List<Message> records = reader.readUntil(TIMEOUT, "three inserts and a truncate", m -> m.size() >= 4);
            JsonNode first = records.get(0).value().get("after");
            assertEquals("one", first.get("a").asText());
            assertFalse(first.has("b"));
            JsonNode second = records.get(1).value().get("after");
            assertEquals(8, second.get("b").asInt());
            assertEquals("two", second.get("a").asText());
            JsonNode third = records.get(2).value().get("after");
            assertFalse(third.has("a"));
            assertEquals(9, third.get("b").asInt());
            assertEquals("t", records.get(3).value().get("op").asText());
            assertNull(records.get(3).key());
        }
        connect.deleteConnector("evolving");
    }

    /**
     * Guarantee 3: the slot is only ever confirmed to the end LSN of a transaction that is in
     * Kafka whole (its END marker is there), never to a change or commit LSN.
     */
    @Test
    void slotIsConfirmedOnlyAtEndsOfTransactionsThatAreInKafka() throws Exception {
        pg.execute(DB, "CREATE TABLE flushes (id serial PRIMARY KEY, writer int, n int)");
        Map<String, String> config = sourceConfig(pg, DB, "flushes", "public\\.flushes");
        config.put("provide.transaction.metadata", "true");
        config.put("status.update.interval.ms", "5000");
        connect.configureConnector("flushes", config);
        awaitRunning(connect, "flushes");
        long initial = confirmedFlush(pg, "flushes");

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger committed = new AtomicInteger();
        List<Long> samples = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> tasks = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            int writer = w;
            tasks.add(pool.submit(() -> {
                try (Connection c = pg.connect(DB)) {
                    c.setAutoCommit(false);
                    for (int n = 0; n < 150; n++) {
                        try (Statement s = c.createStatement()) {
                            int rows = 1 + ThreadLocalRandom.current().nextInt(4);
                            for (int r = 0; r < rows; r++) {
                                s.execute("INSERT INTO flushes (writer, n) VALUES (" + writer + ", " + n + ")");
                            }
                        }
                        c.commit();
                        committed.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        tasks.add(pool.submit(() -> {
            while (writing.get()) {
                samples.add(confirmedFlush(pg, "flushes"));
                Thread.sleep(20);
            }
            return null;
        }));
        for (int i = 0; i < 3; i++) {
            tasks.get(i).get();
        }

        try (TopicReader reader = new TopicReader(connect.kafka(), "flushes\\.transaction")) {
            List<Message> markers = reader.readUntil(TIMEOUT, "an END marker per transaction",
                    m -> m.stream().filter(x -> x.value().get("status").asText().equals("END")).count() >= committed.get());
            Set<Long> ends = new HashSet<>();
            long firstCommit = Long.MAX_VALUE;
            long lastEnd = 0;
            for (Message m : markers) {
                if (m.value().get("status").asText().equals("END")) {
                    long end = m.value().get("lsn_end").asLong();
                    ends.add(end);
                    lastEnd = Math.max(lastEnd, end);
                    firstCommit = Math.min(firstCommit, m.value().get("lsn_commit").asLong());
                }
            }
            long target = lastEnd;
            Await.until(TIMEOUT, "the slot to reach the last transaction's end", () -> confirmedFlush(pg, "flushes") >= target);
            writing.set(false);
            tasks.get(3).get();
            pool.shutdown();

            long previous = 0;
            int atEnds = 0;
            for (long sample : samples) {
                assertTrue(sample >= previous, "confirmed_flush_lsn never goes back");
                previous = sample;
                if (sample == initial || sample < firstCommit) {
                    continue;
                }
                assertTrue(ends.contains(sample), "confirmed_flush_lsn " + sample
                        + " is not the end LSN of any transaction in Kafka");
                atEnds++;
            }
            assertTrue(atEnds > 0, "the slot advanced while the load ran (" + samples.size() + " samples)");
        }
        connect.deleteConnector("flushes");
    }

    /** Guarantee 5: captured tables idle, the rest of the database busy: the slot still advances. */
    @Test
    void idleCapturedTablesDoNotHoldBackTheSlot() throws Exception {
        pg.execute(DB, "CREATE TABLE quiet_t (id int PRIMARY KEY)", "CREATE TABLE busy_t (id serial PRIMARY KEY, v text)");
        Map<String, String> config = sourceConfig(pg, DB, "quiet", "public\\.quiet_t");
        // Before PostgreSQL 15 the server sends the other tables' transactions too, empty: they make no records.
        config.put("provide.transaction.metadata", "true");
        connect.configureConnector("quiet", config);
        awaitRunning(connect, "quiet");
        for (int i = 0; i < 200; i++) {
            pg.execute(DB, "INSERT INTO busy_t (v) VALUES (repeat('x', 1000))");
        }
        long walAfterLoad = Long.parseLong(pg.queryValue(DB, "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));
        Await.until(TIMEOUT, "the slot to move past the uncaptured load",
                () -> confirmedFlush(pg, "quiet") >= walAfterLoad);
        long retained = Long.parseLong(pg.queryValue(DB, "SELECT pg_current_wal_lsn() - confirmed_flush_lsn "
                + "FROM pg_replication_slots WHERE slot_name = 'quiet'"));
        assertTrue(retained < 1_000_000, "retained WAL stays small: " + retained);
        try (TopicReader reader = new TopicReader(connect.kafka(), "quiet\\.transaction")) {
            assertEquals(List.of(), reader.poll(Duration.ofSeconds(2)), "no transaction markers for empty transactions");
        }
        connect.deleteConnector("quiet");
    }

    @Test
    void tableThatLostItsKeyIsRejectedAtStartup() throws Exception {
        // Validation refuses an unkeyed table when the connector is created; the task checks again at each start.
        pg.execute(DB, "CREATE TABLE keyless (a int PRIMARY KEY, b text)");
        connect.configureConnector("keyless", sourceConfig(pg, DB, "keyless", "public\\.keyless"));
        awaitRunning(connect, "keyless");
        pg.execute(DB, "ALTER TABLE keyless DROP CONSTRAINT keyless_pkey");
        connect.restartTask("keyless", 0);
        String trace = awaitTaskFailure(connect, "keyless");
        assertTrue(trace.contains("without primary key or replica identity: [public.keyless]"), trace);
        connect.deleteConnector("keyless");
    }

    @Test
    void userThatLostReplicationIsRejectedAtStartup() throws Exception {
        String trace = refusedAtRestartAfter("plain", "plain_t", "ALTER ROLE plain NOREPLICATION");
        assertTrue(trace.contains("User \"plain\" lacks the REPLICATION attribute"), trace);
    }

    /**
     * Runs a connector as user {@code role} (made with REPLICATION and SELECT on {@code table}, published by hand),
     * then runs {@code takeAway} and restarts the task: the trace of its failure.
     */
    private static String refusedAtRestartAfter(String role, String table, String takeAway) throws Exception {
        pg.execute(DB, "CREATE ROLE " + role + " LOGIN REPLICATION", "CREATE TABLE " + table + " (id int PRIMARY KEY)",
                "GRANT SELECT ON " + table + " TO " + role, "CREATE PUBLICATION " + role + "_pub FOR TABLE " + table);
        Map<String, String> config = sourceConfig(pg, DB, role, "public\\." + table);
        config.put("database.user", role);
        config.put("publication.name", role + "_pub");
        config.put("publication.autocreate.mode", "disabled");
        connect.configureConnector(role, config);
        awaitRunning(connect, role);
        pg.execute(DB, takeAway);
        connect.restartTask(role, 0);
        String trace = awaitTaskFailure(connect, role);
        connect.deleteConnector(role);
        return trace;
    }

    /** Validation's rules are the start's: a table the user may no longer read is refused, naming it. */
    @Test
    void userThatLostSelectIsRejectedAtStartup() throws Exception {
        String trace = refusedAtRestartAfter("reader", "read_t", "REVOKE SELECT ON read_t FROM reader");
        assertTrue(trace.contains("User \"reader\" may not SELECT from \"public\".\"read_t\""), trace);
    }


    @Test
    void slotHeldByAnotherReaderIsRejectedAtStartup() throws Exception {
        pg.execute(DB, "CREATE TABLE held_t (id int PRIMARY KEY)", "CREATE PUBLICATION held_pub FOR TABLE held_t",
                "SELECT pg_create_logical_replication_slot('held', 'pgoutput')");
        Properties props = new Properties();
        PGProperty.USER.set(props, "postgres");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        try (Connection replication = java.sql.DriverManager.getConnection(pg.jdbcUrl(DB), props);
             PGReplicationStream other = replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream()
                     .logical().withSlotName("held").withSlotOption("proto_version", 1)
                     .withSlotOption("publication_names", "held_pub").start()) {
            connect.configureConnector("held", sourceConfig(pg, DB, "held", "public\\.held_t"));
            String trace = awaitTaskFailure(connect, "held");
            assertTrue(trace.contains("Replication slot \"held\" is in use by another process"), trace);
        }
        connect.deleteConnector("held");
    }

    @Test
    void serverWithoutLogicalWalIsRefusedWhenTheConnectorIsCreated() throws Exception {
        try (PostgresServer replicaLevel = PostgresServer.start(Map.of("wal_level", "replica"))) {
            replicaLevel.execute("postgres", "CREATE TABLE t (id int PRIMARY KEY)");
            Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> connect.configureConnector(
                    "walLevel", sourceConfig(replicaLevel, "postgres", "wal_level", "public\\.t")));
            assertTrue(refused.getMessage().contains("has wal_level = replica; logical replication needs wal_level = logical"),
                    refused.getMessage());
            assertFalse(connect.connectors().contains("walLevel"), "nothing was created");
        }
    }

    @Test
    void unchangedToastValuesAreMarkedNotNulled() throws Exception {
        pg.execute(DB, "CREATE TABLE docs (id int PRIMARY KEY, title text, body text)",
                "ALTER TABLE docs ALTER body SET STORAGE EXTERNAL");
        connect.configureConnector("toast", sourceConfig(pg, DB, "toast", "public\\.docs"));
        awaitRunning(connect, "toast");
        pg.execute(DB, "INSERT INTO docs VALUES (1, 'a', repeat('b', 20000))",
                "UPDATE docs SET title = 'c' WHERE id = 1", "DELETE FROM docs WHERE id = 1");
        try (TopicReader reader = new TopicReader(connect.kafka(), "toast\\.public\\.docs")) {
            List<Message> records = reader.readUntil(TIMEOUT, "insert, update, delete and tombstone", m -> m.size() >= 4);
            assertEquals("d", records.get(2).value().get("op").asText());
            assertEquals(1, records.get(2).value().get("before").get("id").asInt());
            assertNull(records.get(3).value(), "a tombstone follows the delete");
            assertEquals(1, records.get(3).key().get("id").asInt());
            JsonNode update = records.get(1).value();
            assertEquals("u", update.get("op").asText());
            assertEquals("c", update.get("after").get("title").asText());
            assertTrue(update.get("after").get("body").isNull());
            assertEquals("[\"body\"]", update.get("source").get("unchanged_toast").toString());
            assertTrue(records.get(0).value().get("source").get("unchanged_toast").isNull());
        }
        connect.deleteConnector("toast");
    }

    /**
     * A publication the user made with a column list and a row filter (PostgreSQL 15+): what arrives is what it
     * publishes, and an update that moves a row out of the filter or into it arrives as a delete or an insert.
     */
    @Test
    void aRowFilterAndAColumnListOfTheUsersPublicationShapeWhatArrives() throws Exception {
        assumeTrue(pg.majorVersion() >= 15, "row filters and column lists need PostgreSQL 15");
        // A filter on region needs region in the replica identity, as UPDATE and DELETE are published.
        pg.execute(DB, "CREATE TABLE regional (id int PRIMARY KEY, region text NOT NULL, amount int, secret text)",
                "CREATE UNIQUE INDEX regional_identity ON regional (id, region)",
                "ALTER TABLE regional REPLICA IDENTITY USING INDEX regional_identity",
                "CREATE PUBLICATION regional_pub FOR TABLE regional (id, region, amount) WHERE (region = 'eu')");
        Map<String, String> config = sourceConfig(pg, DB, "regional", "public\\.regional");
        config.put("publication.name", "regional_pub");
        config.put("publication.autocreate.mode", "disabled");
        connect.configureConnector("regional", config);
        awaitRunning(connect, "regional");
        pg.execute(DB, "INSERT INTO regional VALUES (1, 'eu', 10, 's1'), (2, 'us', 20, 's2')",
                "UPDATE regional SET amount = 11 WHERE id = 1",
                "UPDATE regional SET region = 'us' WHERE id = 1",
                "UPDATE regional SET region = 'eu' WHERE id = 2");
        try (TopicReader reader = new TopicReader(connect.kafka(), "regional\\.public\\.regional")) {
            List<Message> records = changes(reader.readUntil(TIMEOUT, "four changes", m -> changes(m).size() >= 4));
            assertEquals(List.of("c 1", "u 1", "d 1", "c 2"), records.stream()
                    .map(m -> m.value().get("op").asText() + " " + (m.value().get("after").isNull()
                            ? m.value().get("before") : m.value().get("after")).get("id").asInt()).toList());
            assertEquals(11, records.get(1).value().get("after").get("amount").asInt());
            assertEquals(20, records.get(3).value().get("after").get("amount").asInt());
            for (Message record : records) {
                JsonNode row = record.value().get("after").isNull() ? record.value().get("before") : record.value().get("after");
                assertFalse(row.has("secret"), "the column list leaves secret out: " + row);
            }
        }
        connect.deleteConnector("regional");
    }

    @Test
    void underReplicaIdentityFullAnUnchangedLargeValueIsTakenFromTheOldRow() throws Exception {
        pg.execute(DB, "CREATE TABLE full_docs (id int PRIMARY KEY, title text, body text)",
                "ALTER TABLE full_docs ALTER body SET STORAGE EXTERNAL", "ALTER TABLE full_docs REPLICA IDENTITY FULL");
        connect.configureConnector("fulltoast", sourceConfig(pg, DB, "fulltoast", "public\\.full_docs"));
        awaitRunning(connect, "fulltoast");
        pg.execute(DB, "INSERT INTO full_docs VALUES (1, 'a', repeat('b', 20000))",
                "UPDATE full_docs SET title = 'c' WHERE id = 1", "UPDATE full_docs SET id = 2 WHERE id = 1");
        try (TopicReader reader = new TopicReader(connect.kafka(), "fulltoast\\.public\\.full_docs")) {
            List<Message> records = reader.readUntil(TIMEOUT, "insert, update, and the key change's delete, tombstone "
                    + "and create", m -> m.size() >= 5);
            JsonNode update = records.get(1).value();
            assertEquals("u", update.get("op").asText());
            assertEquals("b".repeat(20000), update.get("after").get("body").asText());
            assertTrue(update.get("source").get("unchanged_toast").isNull());
            JsonNode moved = records.get(4).value();
            assertEquals("c", moved.get("op").asText());
            assertEquals(2, moved.get("after").get("id").asInt());
            assertEquals("b".repeat(20000), moved.get("after").get("body").asText(), "the new key's row is whole");
            assertTrue(moved.get("source").get("unchanged_toast").isNull());
        }
        connect.deleteConnector("fulltoast");
    }

    @Test
    void aValueItsConnectTypeCannotHoldIsSentAsNullCountedAndTheStreamGoesOn() throws Exception {
        pg.execute(DB, "CREATE TABLE odd_values (id int PRIMARY KEY, amount numeric(10,2), grid int[])",
                "INSERT INTO odd_values VALUES (1, 'NaN', '{1,2}')");
        connect.configureConnector("odd", sourceConfig(pg, DB, "odd", "public\\.odd_values"));
        awaitRunning(connect, "odd");
        pg.execute(DB, "INSERT INTO odd_values VALUES (2, 1.50, '{{1,2},{3,4}}')",
                "INSERT INTO odd_values VALUES (3, 'NaN', '{5}')", "INSERT INTO odd_values VALUES (4, 2.25, '{6}')");
        try (TopicReader reader = new TopicReader(connect.kafka(), "odd\\.public\\.odd_values")) {
            List<Message> records = reader.readUntil(TIMEOUT, "the snapshot row and three streamed rows", m -> m.size() >= 4);
            JsonNode snapshotted = records.get(0).value().get("after");
            assertTrue(snapshotted.get("amount").isNull(), "NaN has no Decimal");
            assertEquals(2, snapshotted.get("grid").size());
            JsonNode twoDimensional = records.get(1).value().get("after");
            assertFalse(twoDimensional.get("amount").isNull());
            assertTrue(twoDimensional.get("grid").isNull(), "a 2-D array has no place in a 1-D schema");
            assertTrue(records.get(2).value().get("after").get("amount").isNull());
            assertFalse(records.get(3).value().get("after").get("amount").isNull(), "the stream goes on");
        }
        assertEquals("RUNNING", connect.connectorStatus("odd").tasks().get(0).state());
        Object counted = java.lang.management.ManagementFactory.getPlatformMBeanServer().getAttribute(
                new ObjectName("io.pgcdc:type=source-task-metrics,connector=odd,task=0"), "UnconvertibleValues");
        assertEquals(3L, counted);
        connect.deleteConnector("odd");
    }

    @Test
    void anUpdateThatLeavesAnOutOfLineKeyAloneKeepsItsKey() throws Exception {
        String longKey = "k".repeat(2500); // stored out of line (EXTERNAL), still short enough for the index
        pg.execute(DB, "CREATE TABLE long_keys (k text PRIMARY KEY, v int)", "ALTER TABLE long_keys ALTER k SET STORAGE EXTERNAL");
        connect.configureConnector("longkeys", sourceConfig(pg, DB, "longkeys", "public\\.long_keys"));
        awaitRunning(connect, "longkeys");
        pg.execute(DB, "INSERT INTO long_keys VALUES ('" + longKey + "', 1)", "UPDATE long_keys SET v = 2",
                "INSERT INTO long_keys VALUES ('short', 3)");
        try (TopicReader reader = new TopicReader(connect.kafka(), "longkeys\\.public\\.long_keys")) {
            List<Message> records = reader.readUntil(TIMEOUT, "insert, update, insert", m -> m.size() >= 3);
            JsonNode update = records.get(1).value();
            assertEquals("u", update.get("op").asText());
            assertEquals(longKey, records.get(1).key().get("k").asText());
            assertEquals(longKey, update.get("after").get("k").asText());
            assertEquals(2, update.get("after").get("v").asInt());
        }
        connect.deleteConnector("longkeys");
    }

    @Test
    void slotDroppedBehindTheConnectorsBackIsAClearError() throws Exception {
        pg.execute(DB, "CREATE TABLE dropped_t (id int PRIMARY KEY)");
        Map<String, String> config = sourceConfig(pg, DB, "dropped", "public\\.dropped_t");
        connect.configureConnector("dropped", config);
        awaitRunning(connect, "dropped");
        pg.execute(DB, "INSERT INTO dropped_t VALUES (1)");
        try (TopicReader reader = new TopicReader(connect.kafka(), "dropped\\.public\\.dropped_t")) {
            reader.readUntil(TIMEOUT, "the insert", m -> m.size() >= 1);
        }
        Await.until(TIMEOUT, "Connect to store the offset",
                () -> !connect.connectorOffsets("dropped").offsets().isEmpty());
        connect.deleteConnector("dropped");
        Await.until(TIMEOUT, "the slot to be released", () -> "false".equals(pg.queryValue(DB,
                "SELECT active::text FROM pg_replication_slots WHERE slot_name = 'dropped'")));
        pg.execute(DB, "SELECT pg_drop_replication_slot('dropped')");
        connect.configureConnector("dropped", config);
        String trace = awaitTaskFailure(connect, "dropped");
        assertTrue(trace.contains("Replication slot \"dropped\" does not exist, but Connect holds offsets for it"), trace);
        connect.deleteConnector("dropped");
    }
}
