package io.pgcdc.quickstart;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import io.pgcdc.testsupport.ConnectCluster;

/**
 * A Connect worker loading both connectors from their packaged plugin directories, as operators
 * load them, and the connector settings the operations tests start from.
 */
final class PluginWorker {

    static final Duration TIMEOUT = Duration.ofSeconds(90);
    static final String SOURCE_CLASS = "io.pgcdc.source.PgSourceConnector";
    static final String SINK_CLASS = "io.pgcdc.sink.PgSinkConnector";

    private PluginWorker() {
    }

    static EmbeddedConnectCluster start(String name, Map<String, String> extraWorkerProps) {
        Map<String, String> props = new HashMap<>(extraWorkerProps);
        props.put("plugin.path", System.getProperty("pgcdc.plugin.path"));
        return ConnectCluster.start(name, 1, props);
    }

    /** A source reading {@code tables} (a regex) into topics '{@code name}.schema.table' through its own slot. */
    static Map<String, String> source(String name, String host, int port, String database, String user, String tables) {
        Map<String, String> config = new HashMap<>();
        config.put("name", name);
        config.put("connector.class", SOURCE_CLASS);
        config.put("tasks.max", "1");
        config.put("database.hostname", host);
        config.put("database.port", String.valueOf(port));
        config.put("database.user", user);
        config.put("database.dbname", database);
        config.put("slot.name", name);
        config.put("publication.name", name);
        config.put("publication.autocreate.mode", "filtered");
        config.put("table.include.list", tables);
        config.put("topic.prefix", name);
        config.put("status.update.interval.ms", "1000");
        config.put("topic.creation.default.partitions", "1");
        config.put("topic.creation.default.replication.factor", "1");
        return config;
    }

    static Map<String, String> sink(String name, String url, String user, String topics) {
        Map<String, String> config = new HashMap<>();
        config.put("name", name);
        config.put("connector.class", SINK_CLASS);
        config.put("tasks.max", "1");
        config.put("topics", topics);
        config.put("connection.url", url);
        config.put("connection.username", user);
        return config;
    }

    /** Errors by setting from PUT /connector-plugins/.../config/validate. */
    static Map<String, List<String>> validationErrors(EmbeddedConnectCluster connect, Map<String, String> config) {
        String plugin = config.get("connector.class");
        Map<String, List<String>> errors = new TreeMap<>();
        connect.validateConnectorConfig(plugin.substring(plugin.lastIndexOf('.') + 1), config).configs().forEach(info -> {
            if (!info.configValue().errors().isEmpty()) {
                errors.put(info.configValue().name(), info.configValue().errors());
            }
        });
        return errors;
    }
}
