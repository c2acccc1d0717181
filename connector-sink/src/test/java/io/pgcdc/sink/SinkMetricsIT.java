package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import javax.management.Attribute;
import javax.management.ObjectName;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.RemoteJmx;

/**
 * The sink task's MBean read over a remote JMX connection, as a console or exporter attached to
 * the worker reads it, while a real Connect worker writes records from Kafka into a real
 * PostgreSQL: every counter must move exactly as the data does.
 */
class SinkMetricsIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String DB = SinkTestBed.DB;
    private static SinkTestBed bed;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** After every updated_at the tests write: deletes committed then remove rows. */
    private static final Instant LATE_COMMIT = Instant.parse("2025-01-01T00:00:00Z");

    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;
    private static KafkaProducer<byte[], byte[]> producer;
    private static RemoteJmx jmx;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink-metrics");
        pg = bed.pg;
        connect = bed.connect;
        producer = bed.producer;
        jmx = RemoteJmx.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (jmx != null) {
            jmx.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    // ---- records: schemaless change envelopes, the source block naming the table ----------------------

    private static Map<String, Object> row(Object... namesAndValues) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            row.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return row;
    }

    private static void send(String topic, String table, String op, Map<String, Object> row, Instant commit) throws Exception {
        bed.createTopicOnce(topic);
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("op", op);
        envelope.put(op.equals("d") ? "before" : "after", row);
        envelope.put("source", Map.of("schema", "public", "table", table,
                "ts_us", commit.toEpochMilli() * 1000));
        producer.send(new ProducerRecord<>(topic, 0, null, JSON.writeValueAsBytes(envelope)));
    }

    private static void upsert(String topic, String table, Map<String, Object> row) throws Exception {
        send(topic, table, "c", row, LATE_COMMIT);
    }

    private static void delete(String topic, String table, int id, Instant commit) throws Exception {
        send(topic, table, "d", row("id", id), commit);
    }

    // ---- connector, database and JMX -------------------------------------------------------------------

    private static Map<String, String> sinkConfig(String topic) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", PgSinkConnector.class.getName());
        config.put("tasks.max", "1");
        config.put("topics", topic);
        config.put("connection.url", pg.jdbcUrl(DB));
        config.put("connection.username", "postgres");
        config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("value.converter.schemas.enable", "false");
        return config;
    }

    private static String value(String sql) throws Exception {
        return pg.queryValue(DB, sql);
    }

    private static String taskMBean(String quotedConnector) {
        return "io.pgcdc:type=sink-task-metrics,connector=" + quotedConnector + ",task=0";
    }

    /** The attributes read in one remote call. */
    private static Map<String, Object> read(String mbean, Set<String> attributes) throws Exception {
        Map<String, Object> values = new HashMap<>();
        for (Attribute a : jmx.connection().getAttributes(new ObjectName(mbean), attributes.toArray(String[]::new)).asList()) {
            values.put(a.getName(), a.getValue());
        }
        return values;
    }

    /** Waits until the named counters are exactly these; counters only grow, so an overshoot never passes. */
    private static void awaitCounters(String mbean, Map<String, Long> expected) {
        Await.until(TIMEOUT, () -> mbean + " to show " + expected + ", shows " + safeRead(mbean, expected.keySet()),
                () -> read(mbean, expected.keySet()).equals(expected));
    }

    private static Object safeRead(String mbean, Set<String> attributes) {
        try {
            return read(mbean, attributes);
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static Map<String, Long> counters(Object... namesAndValues) {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            counters.put((String) namesAndValues[i], ((Number) namesAndValues[i + 1]).longValue());
        }
        return counters;
    }

    private static void deleteConnectorAndAwaitNoMBean(String connector, String mbean) throws Exception {
        assertEquals(Set.of(new ObjectName(mbean)), jmx.names(mbean));
        connect.deleteConnector(connector);
        Await.until(TIMEOUT, "the MBean " + mbean + " to be unregistered", () -> jmx.names(mbean).isEmpty());
    }

    // ---- tests -------------------------------------------------------------------------------------------

    @Test
    void rowCountersFollowInsertsUpdatesStaleReplaysAndDeletes() throws Exception {
        pg.execute(DB, "CREATE TABLE metered (id int PRIMARY KEY, v text, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "m.public.metered";
        // A name JMX cannot take as it is: the MBean's name carries it quoted.
        String connector = "olap:metrics";
        String mbean = taskMBean("\"olap:metrics\"");
        connect.configureConnector(connector, sinkConfig(topic));

        for (int id = 1; id <= 10; id++) {
            upsert(topic, "metered", row("id", id, "v", "v1", "updated_at", "2024-01-01T00:00:00Z"));
        }
        producer.flush();
        awaitCounters(mbean, counters("RecordsReceived", 10, "RowsInserted", 10, "RowsUpdated", 0, "RowsSkippedStale", 0,
                "RowsDeleted", 0, "DeletesSkipped", 0));

        for (int id = 1; id <= 4; id++) {
            upsert(topic, "metered", row("id", id, "v", "v2", "updated_at", "2024-01-02T00:00:00Z"));
        }
        producer.flush();
        awaitCounters(mbean, counters("RecordsReceived", 14, "RowsInserted", 10, "RowsUpdated", 4, "RowsSkippedStale", 0));

        // Replays: older versions of 1..4, the same version of 5 and 6. None may count as updated.
        for (int id = 1; id <= 6; id++) {
            upsert(topic, "metered", row("id", id, "v", "replayed", "updated_at", "2024-01-01T00:00:00Z"));
        }
        producer.flush();
        awaitCounters(mbean, counters("RecordsReceived", 20, "RowsInserted", 10, "RowsUpdated", 4, "RowsSkippedStale", 6));
        assertEquals("0", value("SELECT count(*) FROM metered WHERE v = 'replayed'"));

        // Two deletes remove rows; one finds no row; one committed before its row was written, so the guard keeps it.
        delete(topic, "metered", 9, LATE_COMMIT);
        delete(topic, "metered", 10, LATE_COMMIT);
        delete(topic, "metered", 99, LATE_COMMIT);
        delete(topic, "metered", 8, Instant.parse("2023-06-01T00:00:00Z"));
        producer.flush();
        awaitCounters(mbean, counters("RecordsReceived", 24, "RowsInserted", 10, "RowsUpdated", 4, "RowsSkippedStale", 6,
                "RowsDeleted", 2, "DeletesSkipped", 2));
        assertEquals("1,2,3,4,5,6,7,8", value("SELECT string_agg(id::text, ',' ORDER BY id) FROM metered"));

        Map<String, Object> batch = read(mbean, Set.of("Batches", "RowsPerBatchAvg", "RowsPerBatchMax",
                "BatchLatencyAvgMs", "BatchLatencyMaxMs", "Retries", "RecordsSentToDlq", "LastError", "LastErrorTimestampMs"));
        long batches = (Long) batch.get("Batches");
        double rowsPerBatch = (Double) batch.get("RowsPerBatchAvg");
        long maxRows = (Long) batch.get("RowsPerBatchMax");
        double latencyAvg = (Double) batch.get("BatchLatencyAvgMs");
        double latencyMax = (Double) batch.get("BatchLatencyMaxMs");
        assertTrue(batches >= 4, "each step was written before the next was sent: " + batch);
        // 24 rows went to the database, never more than one step's 10 in one batch.
        assertEquals(24.0, rowsPerBatch * batches, 1e-9, batch.toString());
        assertTrue(maxRows >= 1 && maxRows <= 10, batch.toString());
        assertTrue(latencyMax > 0 && latencyAvg <= latencyMax, batch.toString());
        assertEquals(0L, batch.get("Retries"));
        assertEquals(0L, batch.get("RecordsSentToDlq"));
        assertNull(batch.get("LastError"));
        assertEquals(0L, batch.get("LastErrorTimestampMs"));

        deleteConnectorAndAwaitNoMBean(connector, mbean);
    }

    @Test
    void aRejectedRowIsCountedAsDeadLetterAndNamedAsLastError() throws Exception {
        pg.execute(DB, "CREATE TABLE codes (id int PRIMARY KEY, code varchar(3), updated_at timestamptz, pgcdc_position numeric)");
        String topic = "dlq.public.codes";
        for (int id = 1; id <= 10; id++) {
            // offset 4 does not fit varchar(3): the batch is redone under savepoints that isolate it
            upsert(topic, "codes", row("id", id, "code", id == 5 ? "too long" : "c" + id, "updated_at", "2024-01-01T00:00:00Z"));
        }
        producer.flush();
        Map<String, String> config = sinkConfig(topic);
        config.put("errors.tolerance", "all");
        config.put("errors.deadletterqueue.topic.name", "dlq-codes");
        config.put("errors.deadletterqueue.topic.replication.factor", "1");
        connect.configureConnector("metrics-dlq", config);
        String mbean = taskMBean("metrics-dlq");

        awaitCounters(mbean, counters("RecordsReceived", 10, "RowsInserted", 9, "RowsUpdated", 0, "RowsSkippedStale", 0,
                "RecordsSentToDlq", 1));
        assertEquals("9", value("SELECT count(*) FROM codes"));
        String lastError = (String) jmx.attribute(mbean, "LastError");
        assertTrue(lastError != null && lastError.contains("dlq.public.codes-0@4") && lastError.contains("value too long"),
                "LastError names the record and why: " + lastError);
        assertTrue(jmx.number(mbean, "LastErrorTimestampMs") > 0);

        deleteConnectorAndAwaitNoMBean("metrics-dlq", mbean);
    }

    /**
     * A batch over two tables: the first is written, then the second waits on a lock, and its
     * connection is killed. The retry writes the first table again; only the committed retry counts.
     */
    @Test
    void aRetriedBatchCountsOnlyWhatItsCommitWrote() throws Exception {
        pg.execute(DB, "CREATE TABLE written_first (id int PRIMARY KEY, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE TABLE locked (id int PRIMARY KEY, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "retry.public.both";
        for (int id = 1; id <= 5; id++) {
            upsert(topic, "written_first", row("id", id, "updated_at", "2024-01-01T00:00:00Z"));
        }
        for (int id = 1; id <= 3; id++) {
            upsert(topic, "locked", row("id", id, "updated_at", "2024-01-01T00:00:00Z"));
        }
        producer.flush();
        String mbean = taskMBean("metrics-retry");
        try (Connection holder = pg.connect(DB); Statement s = holder.createStatement()) {
            holder.setAutoCommit(false);
            s.execute("LOCK TABLE locked IN EXCLUSIVE MODE");
            Map<String, String> config = sinkConfig(topic);
            config.put("retry.backoff.ms", "100");
            connect.configureConnector("metrics-retry", config);
            String waiting = " FROM pg_stat_activity WHERE application_name = 'pgcdc-sink' AND datname = '" + DB
                    + "' AND wait_event_type = 'Lock'";
            Await.until(TIMEOUT, "the sink to wait on the locked table", () -> "1".equals(value("SELECT count(*)" + waiting)));
            assertEquals("t", value("SELECT bool_and(pg_terminate_backend(pid))" + waiting));
            awaitCounters(mbean, counters("Retries", 1, "RowsInserted", 0));
            holder.commit();
        }
        awaitCounters(mbean, counters("RecordsReceived", 8, "RowsInserted", 8, "Retries", 1));
        // The premise: both tables were in the one batch that was retried.
        assertEquals(counters("Batches", 1, "RowsPerBatchMax", 8), read(mbean, Set.of("Batches", "RowsPerBatchMax")));
        assertEquals("5|3", value("SELECT (SELECT count(*) FROM written_first) || '|' || (SELECT count(*) FROM locked)"));

        deleteConnectorAndAwaitNoMBean("metrics-retry", mbean);
    }

    /** A partitioned table cannot return xmax: its inserts are told from updates another way. */
    @Test
    void aPartitionedTargetIsCountedAndARestartedTaskCountsAfresh() throws Exception {
        pg.execute(DB, "CREATE TABLE parted (id int PRIMARY KEY, v text, updated_at timestamptz, pgcdc_position numeric) PARTITION BY RANGE (id)",
                "CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (100)",
                "CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (100) TO (200)");
        String topic = "part.public.parted";
        for (int id : new int[] {1, 2, 150}) {
            upsert(topic, "parted", row("id", id, "v", "v1", "updated_at", "2024-01-01T00:00:00Z"));
        }
        producer.flush();
        connect.configureConnector("metrics-parted", sinkConfig(topic));
        String mbean = taskMBean("metrics-parted");
        awaitCounters(mbean, counters("RowsInserted", 3, "RowsUpdated", 0, "RowsSkippedStale", 0));

        upsert(topic, "parted", row("id", 150, "v", "v2", "updated_at", "2024-01-02T00:00:00Z"));
        upsert(topic, "parted", row("id", 1, "v", "old", "updated_at", "2023-01-01T00:00:00Z"));
        upsert(topic, "parted", row("id", 3, "v", "v1", "updated_at", "2024-01-01T00:00:00Z"));
        producer.flush();
        awaitCounters(mbean, counters("RowsInserted", 4, "RowsUpdated", 1, "RowsSkippedStale", 1));

        // The new task instance registers the same name with its own counters, which start from zero
        // (counters never go down: zero is the new instance).
        connect.restartTask("metrics-parted", 0);
        awaitCounters(mbean, counters("RowsInserted", 0));
        upsert(topic, "parted", row("id", 4, "v", "v1", "updated_at", "2024-01-01T00:00:00Z"));
        producer.flush();
        awaitCounters(mbean, counters("RowsInserted", 1));
        assertEquals("1,2,3,4,150", value("SELECT string_agg(id::text, ',' ORDER BY id) FROM parted"));

        deleteConnectorAndAwaitNoMBean("metrics-parted", mbean);
    }
}
