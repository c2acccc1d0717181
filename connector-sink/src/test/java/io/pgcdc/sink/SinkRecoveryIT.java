package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import javax.management.ObjectName;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;

/**
 * A sink task that failed, and is restarted through the REST API once the cause is fixed, writes every
 * record it had not written: the batch that failed included, good rows and bad. Connect commits a task's
 * offsets on the way down and when partitions are revoked, so the sink must never let it commit past a
 * batch it did not write. The worker commits offsets only every minute here, as by default, so that a
 * failure surfaces where it would in production: in the next put(), or in a rebalance.
 */
class SinkRecoveryIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String DB = SinkTestBed.DB;

    private static SinkTestBed bed;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink-recovery", Map.of("offset.flush.interval.ms", "60000"));
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    private static Map<String, String> config(String topics) {
        return bed.sinkConfig(topics);
    }

    /** Rows {@code from..to} with qty = id, except {@code bad}, whose qty is -1. */
    private static void produce(String topic, int from, int to, int bad) {
        bed.createTopicOnce(topic);
        for (int id = from; id <= to; id++) {
            String json = "{\"id\":" + id + ",\"qty\":" + (id == bad ? -1 : id) + ",\"updated_at\":\"2025-01-01T00:00:00Z\"}";
            bed.producer.send(new ProducerRecord<>(topic, 0, null, json.getBytes(StandardCharsets.UTF_8)));
        }
        bed.producer.flush();
    }

    private static void createTable(String table) throws Exception {
        bed.pg.execute(DB, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, qty int CONSTRAINT qty_positive "
                + "CHECK (qty >= 0), updated_at timestamptz, pgcdc_position numeric)");
    }

    /** Every id 1..n present with its qty (-1 for {@code bad}, if not 0). */
    private static void awaitAllRows(String table, int n, int bad) {
        long expected = (long) n * (n + 1) / 2 - (bad == 0 ? 0 : bad + 1);
        String sql = "SELECT count(*) || '/' || coalesce(sum(qty), 0) FROM " + table;
        Await.until(TIMEOUT, () -> "every row of " + table + " (" + n + "/" + expected + "), are " + value(sql),
                () -> (n + "/" + expected).equals(value(sql)));
    }

    private static String value(String sql) {
        try {
            return bed.pg.queryValue(DB, sql);
        } catch (Exception e) {
            return e.getMessage();
        }
    }

    private static void restartAfterFix(String name, String fix) throws Exception {
        bed.pg.execute(DB, fix);
        bed.connect.restartTask(name, 0);
    }

    @Test
    void aRowRejectedMidStreamFailsTheTaskAndItsWholeBatchIsWrittenAfterTheRestart() throws Exception {
        createTable("rejected");
        produce("rec.public.rejected", 1, 2000, 1500);
        bed.connect.configureConnector("rejected", config("rec.public.rejected"));
        String trace = ConnectorStatus.awaitTaskFailure(bed.connect, "rejected", TIMEOUT);
        assertTrue(trace.contains("qty_positive"), trace);

        restartAfterFix("rejected", "ALTER TABLE rejected DROP CONSTRAINT qty_positive");
        awaitAllRows("rejected", 2000, 1500);
        bed.connect.deleteConnector("rejected");
    }

    @Test
    void aTargetDownLongerThanTheRetriesFailsTheTaskAndNothingIsSkippedAfterTheRestart() throws Exception {
        createTable("outage");
        Map<String, String> config = config("rec.public.outage");
        config.put("max.retries", "2");
        config.put("retry.backoff.ms", "200");
        produce("rec.public.outage", 1, 1000, 0);
        bed.connect.configureConnector("outage", config);
        awaitAllRows("outage", 1000, 0);

        bed.pg.stop(false);
        try {
            produce("rec.public.outage", 1001, 2000, 0);
            String trace = ConnectorStatus.awaitTaskFailure(bed.connect, "outage", TIMEOUT);
            assertTrue(trace.contains("after 2 retries"), trace);
        } finally {
            bed.pg.startAgain();
        }
        bed.connect.restartTask("outage", 0);
        awaitAllRows("outage", 2000, 0);
        bed.connect.deleteConnector("outage");
    }

    /**
     * The batch fails while the task waits in poll() for more records; a new topic matching the connector's
     * regex then makes its consumer rebalance, and the failure surfaces in the commit Connect attempts as the
     * partitions are revoked: from there on the task must not run as if the batch had been written.
     */
    @Test
    void aFailureSurfacingWhilePartitionsAreRevokedStillFailsTheTaskAndLosesNothing() throws Exception {
        createTable("rebalanced");
        produce("reb.public.rebalanced", 1, 300, 150);
        Map<String, String> config = config("unused");
        config.remove("topics");
        config.put("topics.regex", "reb\\..*");
        config.put("consumer.override.metadata.max.age.ms", "500");
        bed.connect.configureConnector("rebalanced", config);
        ObjectName metrics = SinkMetrics.objectName("rebalanced", 0);
        Await.until(TIMEOUT, "the batch with the rejected row to fail", () -> ManagementFactory.getPlatformMBeanServer()
                .isRegistered(metrics) && ManagementFactory.getPlatformMBeanServer().getAttribute(metrics, "LastError") != null);
        bed.createTopicOnce("reb.public.another");

        String trace = ConnectorStatus.awaitTaskFailure(bed.connect, "rebalanced", TIMEOUT);
        assertTrue(trace.contains("qty_positive"), trace);
        restartAfterFix("rebalanced", "ALTER TABLE rebalanced DROP CONSTRAINT qty_positive");
        awaitAllRows("rebalanced", 300, 150);
        bed.connect.deleteConnector("rebalanced");
    }
}
