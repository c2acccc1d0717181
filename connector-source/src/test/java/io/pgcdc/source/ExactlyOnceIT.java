package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.confirmedFlush;
import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ForkedConnectCluster;
import io.pgcdc.testsupport.ForkedConnectWorker;
import io.pgcdc.testsupport.PostgresServer;

/**
 * Exactly-once mode: a worker with {@code exactly.once.source.support=enabled}, the connector
 * with {@code transaction.boundary=connector}. A worker killed (SIGKILL) in the middle of a
 * large PostgreSQL transaction leaves an aborted Kafka transaction behind; a read_committed
 * consumer sees every PostgreSQL transaction whole, once, in commit order.
 */
class ExactlyOnceIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "eos.public.items";
    private static final int SMALL_TRANSACTIONS = 100;
    private static final int SMALL_ROWS = 5;
    private static final int LARGE_ROWS = 200_000;

    private static PostgresServer pg;
    private static ForkedConnectCluster cluster;
    private static EmbeddedKafkaCluster kafka;

    @BeforeAll
    static void start() {
        pg = PostgresServer.start();
        cluster = new ForkedConnectCluster("eos-cluster", Map.of("exactly.once.source.support", "enabled"));
        kafka = cluster.kafka();
        kafka.createTopic(TOPIC, 1);
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void killedWorkerMidTransactionLeavesEveryTransactionWholeAndOnce() throws Exception {
        pg.execute("postgres", "CREATE TABLE items (id int PRIMARY KEY, payload text)");
        ForkedConnectWorker first = cluster.startWorker();
        Map<String, String> config = sourceConfig(pg, "postgres", "eos", "public\\.items");
        config.put("exactly.once.support", "required");
        config.put("transaction.boundary", "connector");
        first.putConnector("eos", config);
        awaitTaskRunning(first);

        smallTransactions(0);
        pg.execute("postgres", "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(100001, "
                + (100000 + LARGE_ROWS) + ") g");
        TopicPartition partition = new TopicPartition(TOPIC, 0);
        int smallTotal = SMALL_TRANSACTIONS * SMALL_ROWS;
        // The high watermark counts records of open transactions too: kill once the large one is under way.
        Await.until(Duration.ofMinutes(3), "the large transaction to be half sent",
                () -> kafka.endOffset(partition) > smallTotal + LARGE_ROWS / 4);
        first.kill();

        ForkedConnectWorker second = cluster.startWorker();
        awaitTaskRunning(second);
        smallTransactions(1);
        long walEnd = Long.parseLong(pg.queryValue("postgres", "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));

        int expected = 2 * smallTotal + LARGE_ROWS;
        List<Change> committed = read(partition, "read_committed", expected);
        assertEquals(expected, committed.size(), "every row once, read_committed");
        Set<Integer> ids = new HashSet<>();
        for (Change change : committed) {
            assertTrue(ids.add(change.id()), "row " + change.id() + " delivered twice");
        }

        // Whole transactions, in commit order: each commit LSN is one contiguous run, runs ascend.
        Map<Long, Integer> sizes = new HashMap<>();
        long previous = -1;
        for (Change change : committed) {
            if (change.lsnCommit() != previous) {
                assertTrue(change.lsnCommit() > previous, "transactions out of commit order at row " + change.id());
                assertTrue(sizes.get(change.lsnCommit()) == null, "transaction " + change.lsnCommit() + " split");
                previous = change.lsnCommit();
            }
            sizes.merge(change.lsnCommit(), 1, Integer::sum);
        }
        assertEquals(2 * SMALL_TRANSACTIONS + 1, sizes.size(), "one run per PostgreSQL transaction");
        assertTrue(sizes.values().stream().allMatch(n -> n == SMALL_ROWS || n == LARGE_ROWS), sizes.values()::toString);

        // The killed worker's partial transaction is in the log, aborted: the crash happened mid-transaction.
        long uncommittedRecords = countRecords(partition, "read_uncommitted");
        assertTrue(uncommittedRecords > expected, "the kill landed between transactions: nothing aborted");

        // Committed transactions confirm the slot; once idle, it advances past them.
        Await.until(Duration.ofMinutes(1), "the slot confirmed to the end of the WAL",
                () -> confirmedFlush(pg, "eos") >= walEnd);
    }

    private static void awaitTaskRunning(ForkedConnectWorker worker) {
        Await.until(Duration.ofMinutes(2), "the task to run", () -> {
            JsonNode status = worker.status("eos");
            return status.path("tasks").path(0).path("state").asText().equals("RUNNING");
        });
    }

    private static void smallTransactions(int round) throws Exception {
        try (Connection c = pg.connect("postgres"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            for (int t = 0; t < SMALL_TRANSACTIONS; t++) {
                int first = round * 50_000 + t * SMALL_ROWS + 1;
                s.execute("INSERT INTO items SELECT g, 'small' FROM generate_series(" + first + ", "
                        + (first + SMALL_ROWS - 1) + ") g");
                c.commit();
            }
        }
    }

    private record Change(int id, long lsnCommit) { }

    private static KafkaConsumer<byte[], byte[]> consumer(TopicPartition partition, String isolation) {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000"));
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        return consumer;
    }

    /** Reads until {@code expected} changes arrived, then a little longer to catch any extra. */
    private static List<Change> read(TopicPartition partition, String isolation, int expected) throws Exception {
        List<Change> changes = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(partition, isolation)) {
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            int quietPolls = 0;
            while (quietPolls < 5) {
                int polled = 0;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    polled++;
                    if (r.value() != null) {
                        JsonNode value = JSON.readTree(r.value());
                        changes.add(new Change(value.path("after").path("id").asInt(),
                                value.path("source").path("lsn_commit").asLong()));
                    }
                }
                quietPolls = changes.size() >= expected && polled == 0 ? quietPolls + 1 : 0;
                assertTrue(System.nanoTime() < deadline, "only " + changes.size() + " of " + expected + " changes arrived");
            }
        }
        return changes;
    }

    private static long countRecords(TopicPartition partition, String isolation) {
        long count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(partition, isolation)) {
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                count += consumer.poll(Duration.ofSeconds(1)).count();
            }
        }
        return count;
    }
}
