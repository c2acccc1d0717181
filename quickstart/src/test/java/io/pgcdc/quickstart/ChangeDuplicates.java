package io.pgcdc.quickstart;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Change events a read_committed consumer sees more than once. A streamed change is identified by
 * its topic, its transaction's commit LSN and its index in the transaction; a snapshot row (all of
 * one snapshot share a position) by its topic and key. Tombstones carry no position and are skipped.
 */
final class ChangeDuplicates {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a read found: change events read and the identities seen again. */
    record Count(long changes, List<String> duplicates) { }

    private ChangeDuplicates() {
    }

    /** Reads every partition of the topics matching {@code topics} to its last stable offset. */
    static Count read(String bootstrapServers, Pattern topics) throws IOException {
        List<String> identities = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer"))) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.listTopics().forEach((topic, infos) -> {
                if (topics.matcher(topic).matches()) {
                    infos.forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
                }
            });
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // Under read_committed the end offsets are the last stable offsets: nothing is left open once the load stopped.
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    if (r.value() != null) {
                        identities.add(r.topic() + " " + identity(r.key() == null ? null : JSON.readTree(r.key()), JSON.readTree(r.value())));
                    }
                }
            }
        }
        return count(identities);
    }

    /** The identities that occur more than once, each as often as it was seen again. */
    static Count count(List<String> identities) {
        Set<String> seen = new HashSet<>();
        List<String> duplicates = new ArrayList<>();
        for (String identity : identities) {
            if (!seen.add(identity)) {
                duplicates.add(identity);
            }
        }
        return new Count(identities.size(), duplicates);
    }

    /** The change's position in the stream, or the key of a snapshot row; JSON with or without a schema envelope. */
    static String identity(JsonNode key, JsonNode value) {
        JsonNode source = payload(value).path("source");
        String snapshot = source.path("snapshot").asText("false");
        if (!"false".equals(snapshot)) {
            return "snapshot row " + payload(key);
        }
        return "lsn_commit " + source.path("lsn_commit").asLong() + " change " + source.path("change_index").asInt();
    }

    private static JsonNode payload(JsonNode node) {
        return node != null && node.has("schema") && node.has("payload") ? node.get("payload") : node;
    }
}
