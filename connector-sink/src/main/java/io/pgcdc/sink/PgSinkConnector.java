package io.pgcdc.sink;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;
import org.apache.kafka.connect.sink.SinkTask;

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

    /**
     * Besides the settings' own checks, asks the target database what would stop the sink (cannot
     * connect, tables of the listed topics missing or without a conflict key, the guard and soft-delete
     * columns, privileges) and reports each on its setting: an operator sees it in
     * {@code PUT /connector-plugins/.../config/validate}, and Connect refuses to create such a connector.
     */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config result = super.validate(connectorConfigs);
        if (result.configValues().stream().anyMatch(value -> !value.errorMessages().isEmpty())) {
            return result; // the settings themselves are wrong: a connection attempt would say less
        }
        SinkValidation validation = new SinkValidation(new SinkConfig(connectorConfigs), topics(connectorConfigs));
        for (SinkValidation.Problem problem : validation.problems()) {
            result.configValues().stream().filter(value -> value.name().equals(problem.setting())).findFirst()
                    .ifPresent(value -> value.addErrorMessage(problem.message()));
        }
        return result;
    }

    /** The topics {@code topics} lists; none with {@code topics.regex}, whose topics are not known in advance. */
    static List<String> topics(Map<String, String> connectorConfigs) {
        String listed = connectorConfigs.get(SinkTask.TOPICS_CONFIG);
        if (listed == null || listed.isBlank()) {
            return List.of();
        }
        return Arrays.stream(listed.split(",")).map(String::trim).filter(topic -> !topic.isEmpty()).toList();
    }
}
