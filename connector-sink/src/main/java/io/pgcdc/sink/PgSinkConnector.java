package io.pgcdc.sink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/** Writes change records into PostgreSQL tables with guarded bulk upserts. */
public final class PgSinkConnector extends SinkConnector {

    /**
     * A task's index among the connector's tasks, for its JMX name. Set here, never by users, so it
     * is not in {@link SinkConfig#CONFIG_DEF} (which lets unknown keys pass).
     */
    static final String TASK_INDEX_CONFIG = "task.index";

    private Map<String, String> props;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        new SinkConfig(props);
        this.props = props;
    }

    @Override
    public Class<? extends Task> taskClass() {
        return PgSinkTask.class;
    }

    /** The connector's config plus the task's index. */
    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>(maxTasks);
        for (int i = 0; i < maxTasks; i++) {
            Map<String, String> task = new HashMap<>(props);
            task.put(TASK_INDEX_CONFIG, Integer.toString(i));
            configs.add(task);
        }
        return configs;
    }

    @Override
    public void stop() {
        props = null;
    }

    @Override
    public ConfigDef config() {
        return SinkConfig.CONFIG_DEF;
    }
}
