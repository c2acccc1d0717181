package io.pgcdc.sink;

import java.util.Collection;
import java.util.Map;

import javax.management.ObjectName;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

/**
 * Parses each batch on the worker's thread and hands it to the {@link BackgroundWriter}; Connect
 * commits consumer offsets only after preCommit() saw every batch put so far written. The task's
 * {@link SinkMetrics} are registered over JMX while it runs.
 */
public final class PgSinkTask extends SinkTask {

    /** Connect passes the connector's config, whose {@code name} is the connector's, to its tasks. */
    private static final String CONNECTOR_NAME_CONFIG = "name";

    private JmxRegistration metricsRegistration;
    private BatchWriter writer;
    private BackgroundWriter background;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        SinkConfig config = new SinkConfig(props);
        SinkMetrics metrics = new SinkMetrics();
        metricsRegistration = JmxRegistration.register(metricsName(props), metrics, SinkMetricsMBean.class);
        ErrantRecordReporter reporter = null;
        try {
            reporter = context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            // a worker older than Kafka 2.6 has no dead letter queue for sink tasks
        }
        writer = new BatchWriter(config, reporter, metrics);
        background = new BackgroundWriter(writer, "pgcdc-sink-writer-" + props.get(CONNECTOR_NAME_CONFIG) + "-"
                + props.get(PgSinkConnector.TASK_INDEX_CONFIG));
    }

    private static ObjectName metricsName(Map<String, String> props) {
        String connector = props.get(CONNECTOR_NAME_CONFIG);
        String task = props.get(PgSinkConnector.TASK_INDEX_CONFIG);
        if (connector == null || task == null) {
            throw new ConnectException("The task config lacks '" + CONNECTOR_NAME_CONFIG + "' or '"
                    + PgSinkConnector.TASK_INDEX_CONFIG + "': it was not made by this version of PgSinkConnector; "
                    + "restart the connector");
        }
        return SinkMetrics.objectName(connector, Integer.parseInt(task));
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        // Parsed first: while the previous batch is still being written.
        background.submit(writer.parse(records));
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        background.await();
        return super.preCommit(currentOffsets);
    }

    /** Connect calls this also after start() failed: it undoes whatever start() got to. */
    @Override
    public void stop() {
        if (background != null) {
            background.close();
            background = null;
        } else if (writer != null) {
            writer.close();
        }
        writer = null;
        if (metricsRegistration != null) {
            metricsRegistration.close();
            metricsRegistration = null;
        }
    }
}
