package io.pgcdc.source;

import static io.pgcdc.source.SourceIntegrationSupport.confirmedFlush;
import static io.pgcdc.source.SourceIntegrationSupport.sourceConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ForkedConnectWorker;
import io.pgcdc.testsupport.PostgresServer;

/**
 * Guarantee 4: one transaction of 1,000,000 rows through a worker whose heap is capped at
 * 256 MiB. Memory is bounded by the queue, not by the transaction.
 */
class LargeTransactionIT {

    private static final int ROWS = 1_000_000;
    private static PostgresServer pg;
    private static EmbeddedKafkaCluster kafka;
    private static ForkedConnectWorker worker;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        kafka = new EmbeddedKafkaCluster(1, new Properties());
        kafka.start();
        worker = ForkedConnectWorker.start(kafka.bootstrapServers(), "256m", Path.of("target", "forked-worker"), Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (worker != null) {
            worker.close();
        }
        if (kafka != null) {
            kafka.stop();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void millionRowTransactionPassesThroughACappedHeap() throws Exception {
        pg.execute("postgres", "CREATE TABLE big (id int PRIMARY KEY, payload text)");
        Map<String, String> config = sourceConfig(pg, "postgres", "big", "public\\.big");
        worker.putConnector("big", config);
        Await.until(Duration.ofSeconds(60), "the connector to run", () -> {
            JsonNode status = worker.status("big");
            return status.path("tasks").path(0).path("state").asText().equals("RUNNING");
        });

        pg.execute("postgres", "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, " + ROWS + ") g");
        long walEnd = Long.parseLong(pg.queryValue("postgres", "SELECT (pg_current_wal_lsn() - '0/0')::bigint"));

        TopicPartition topic = new TopicPartition("big.public.big", 0);
        Await.until(Duration.ofMinutes(8), () -> "all rows in Kafka; worker " + (worker.isAlive() ? "alive" : "dead")
                + ", log " + worker.log(), () -> {
                    assertTrue(worker.isAlive(), "the worker died; see " + worker.log());
                    return kafka.endOffset(topic) >= ROWS;
                });
        assertEquals(ROWS, kafka.endOffset(topic), "no record twice");
        assertEquals("RUNNING", worker.status("big").path("tasks").path(0).path("state").asText());
        String log = Files.readString(worker.log().toPath(), StandardCharsets.UTF_8);
        assertFalse(log.contains("OutOfMemoryError"), "the worker ran out of memory");

        BitSet ids = new BitSet(ROWS + 1);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000"))) {
            consumer.assign(List.of(topic));
            consumer.seekToBeginning(List.of(topic));
            long read = 0;
            while (read < ROWS) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    String key = new String(r.key(), StandardCharsets.US_ASCII); // {"id":123}
                    ids.set(Integer.parseInt(key, key.indexOf(':') + 1, key.length() - 1, 10));
                    read++;
                }
            }
        }
        assertEquals(ROWS, ids.cardinality(), "every row delivered");
        Await.until(Duration.ofMinutes(1), "the slot confirmed past the transaction",
                () -> confirmedFlush(pg, "big") >= walEnd);
    }
}
