package io.pgcdc.sink;

import java.util.Collection;
import java.util.Map;

import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

/** Hands each batch to the {@link BatchWriter}; Connect commits consumer offsets only after put() returned. */
public final class PgSinkTask extends SinkTask {

    private BatchWriter writer;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        SinkConfig config = new SinkConfig(props);
        ErrantRecordReporter reporter = null;
        try {
            reporter = context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            // a worker older than Kafka 2.6 has no dead letter queue for sink tasks
        }
        writer = new BatchWriter(config, reporter, new SinkMetrics());
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        writer.write(records);
    }

    @Override
    public void stop() {
        if (writer != null) {
            writer.close();
        }
    }
}
