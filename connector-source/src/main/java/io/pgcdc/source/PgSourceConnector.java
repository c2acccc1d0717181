package io.pgcdc.source;

import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Captures changes from one PostgreSQL database through a pgoutput logical replication
 * slot. One slot is read by one task: commit order is the stream's only order.
 */
public final class PgSourceConnector extends SourceConnector {

    private Map<String, String> props;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        new SourceConfig(props);
        this.props = props;
    }

    @Override
    public Class<? extends Task> taskClass() {
        return PgSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        return List.of(props);
    }

    @Override
    public void stop() {
        props = null;
    }

    /** Offsets are exact positions: whatever the transaction boundaries, resuming skips exactly what was committed. */
    @Override
    public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
        return ExactlyOnceSupport.SUPPORTED;
    }

    /**
     * With {@code transaction.boundary=connector}, Kafka transactions begin and end only between
     * PostgreSQL transactions: a read_committed consumer never sees part of one.
     */
    @Override
    public ConnectorTransactionBoundaries canDefineTransactionBoundaries(Map<String, String> connectorConfig) {
        return ConnectorTransactionBoundaries.SUPPORTED;
    }

    @Override
    public ConfigDef config() {
        return SourceConfig.CONFIG_DEF;
    }

    /**
     * Besides the settings' own checks, asks the server what would stop the connector (cannot
     * connect, wal_level, REPLICATION, tables, slot) and reports each on its setting: an operator
     * sees it in {@code PUT /connector-plugins/.../config/validate} before creating anything.
     */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config result = super.validate(connectorConfigs);
        if (result.configValues().stream().anyMatch(value -> !value.errorMessages().isEmpty())) {
            return result; // the settings themselves are wrong: a connection attempt would say less
        }
        for (ReplicationSetup.Problem problem : new ReplicationSetup(new SourceConfig(connectorConfigs)).problems()) {
            result.configValues().stream().filter(value -> value.name().equals(problem.setting())).findFirst()
                    .ifPresent(value -> value.addErrorMessage(problem.message()));
        }
        return result;
    }
}
