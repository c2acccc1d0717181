package io.pgcdc.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;

/**
 * Single-partition topics stamped by the broker (LogAppendTime), so a record's timestamp is when it
 * landed in Kafka, whatever time the connector put on it.
 */
final class Topics implements AutoCloseable {

    /** When the first and the last record of a topic landed. */
    record Span(long firstMs, long lastMs) {
        double seconds() {
            return (lastMs - firstMs) / 1000.0;
        }
    }

    private final EmbeddedKafkaCluster kafka;
    private final KafkaConsumer<byte[], byte[]> consumer;

    Topics(EmbeddedKafkaCluster kafka) {
        this.kafka = kafka;
        this.consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer"));
    }

    void create(String topic) {
        kafka.createTopic(topic, 1, 1, Map.of("message.timestamp.type", "LogAppendTime"));
    }

    void delete(String topic) {
        kafka.deleteTopic(topic);
    }

    long count(String topic) {
        TopicPartition partition = new TopicPartition(topic, 0);
        return consumer.endOffsets(List.of(partition)).get(partition);
    }

    /** The landing times of the topic's first record and of its record at {@code lastOffset}. */
    Span span(String topic, long lastOffset) {
        return new Span(timestampAt(topic, 0), timestampAt(topic, lastOffset));
    }

    /** The key of the topic's record at {@code offset}, as its producer wrote it. */
    byte[] keyAt(String topic, long offset) {
        return recordAt(topic, offset).key();
    }

    private long timestampAt(String topic, long offset) {
        return recordAt(topic, offset).timestamp();
    }

    private ConsumerRecord<byte[], byte[]> recordAt(String topic, long offset) {
        TopicPartition partition = new TopicPartition(topic, 0);
        consumer.assign(List.of(partition));
        consumer.seek(partition, offset);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                return r;
            }
        }
        throw new IllegalStateException("No record at " + topic + "@" + offset);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
