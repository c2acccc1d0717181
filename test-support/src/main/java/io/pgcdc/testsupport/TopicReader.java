package io.pgcdc.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads topics from the beginning with one consumer and keeps every record it saw, in order. */
public final class TopicReader implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A record with its key and value parsed from JSON (null for null), and its headers as text. */
    public record Message(String topic, int partition, long offset, JsonNode key, JsonNode value,
                          Map<String, String> headers) { }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<Message> seen = Collections.synchronizedList(new ArrayList<>());
    private final Map<TopicPartition, Long> next = new java.util.HashMap<>();

    public TopicReader(EmbeddedKafkaCluster kafka, String topicRegex) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.METADATA_MAX_AGE_CONFIG, "500",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer"));
        consumer.subscribe(java.util.regex.Pattern.compile(topicRegex));
    }

    /** Polls until {@code done} holds for everything seen so far; returns a copy of it. */
    public List<Message> readUntil(Duration timeout, String what, Predicate<List<Message>> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Message> snapshot = poll(Duration.ofMillis(200));
            if (done.test(snapshot)) {
                return snapshot;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + "; saw " + snapshot.size() + " records");
            }
        }
    }

    /** One poll; returns everything seen so far. */
    public List<Message> poll(Duration duration) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(duration)) {
            // A topic appearing later (regex subscription) rebalances the group, and a partition assigned
            // again restarts from the earliest offset (nothing is committed): skip what was seen already.
            TopicPartition partition = new TopicPartition(r.topic(), r.partition());
            if (r.offset() < next.getOrDefault(partition, 0L)) {
                continue;
            }
            next.put(partition, r.offset() + 1);
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            r.headers().forEach(h -> headers.put(h.key(), h.value() == null ? null
                    : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8)));
            seen.add(new Message(r.topic(), r.partition(), r.offset(), parse(r.key()), parse(r.value()), headers));
        }
        return new ArrayList<>(seen);
    }

    private static JsonNode parse(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return JSON.readTree(bytes);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Not JSON: " + new String(bytes), e);
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
