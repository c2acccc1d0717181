package io.pgcdc.source;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * A test's hold on records before they reach Kafka: a record for the topic named by 'topic' waits while the file
 * named by 'file' exists. Loaded by forked workers from the test classpath.
 */
public class HoldWhileFileExists<R extends ConnectRecord<R>> implements Transformation<R> {

    private String topic;
    private Path file;

    @Override
    public void configure(Map<String, ?> configs) {
        topic = (String) configs.get("topic");
        file = Path.of((String) configs.get("file"));
    }

    @Override
    public R apply(R record) {
        while (record.topic().equals(topic) && Files.exists(file)) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return record;
            }
        }
        return record;
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef().define("topic", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "Topic whose records wait")
                .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "They wait while this file exists");
    }

    @Override
    public void close() {
    }
}
