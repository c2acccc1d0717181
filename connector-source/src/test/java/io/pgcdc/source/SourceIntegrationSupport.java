package io.pgcdc.source;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/** Helpers shared by the source integration tests: connector configs and status checks through REST. */
final class SourceIntegrationSupport {

    static final Duration TIMEOUT = Duration.ofSeconds(90);

    private SourceIntegrationSupport() {
    }

    /** A connector capturing {@code tables} (regexes) into topics '{@code name}.schema.table', with its own slot and publication. */
    static Map<String, String> sourceConfig(PostgresServer pg, String database, String name, String tables) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", PgSourceConnector.class.getName());
        config.put("tasks.max", "1");
        config.put("database.hostname", pg.host());
        config.put("database.port", String.valueOf(pg.port()));
        config.put("database.user", "postgres");
        config.put("database.dbname", database);
        config.put("database.sslmode", "disable");
        config.put("slot.name", name);
        config.put("publication.name", name + "_pub");
        config.put("publication.autocreate.mode", "filtered");
        config.put("table.include.list", tables);
        config.put("topic.prefix", name);
        config.put("status.update.interval.ms", "1000");
        config.put("topic.creation.default.partitions", "1");
        config.put("topic.creation.default.replication.factor", "1");
        return config;
    }

    /** Errors on the setting they concern, from PUT /connector-plugins/.../config/validate, before anything exists. */
    static Map<String, List<String>> validationErrors(EmbeddedConnectCluster connect, Map<String, String> config) {
        Map<String, List<String>> errors = new TreeMap<>();
        connect.validateConnectorConfig(PgSourceConnector.class.getSimpleName(), config).configs().forEach(info -> {
            if (!info.configValue().errors().isEmpty()) {
                errors.put(info.configValue().name(), info.configValue().errors());
            }
        });
        return errors;
    }

    static void awaitRunning(EmbeddedConnectCluster connect, String name) {
        ConnectorStatus.awaitRunning(connect, name, TIMEOUT);
    }

    /** Waits for the task to fail and returns its trace. */
    static String awaitTaskFailure(EmbeddedConnectCluster connect, String name) {
        return ConnectorStatus.awaitTaskFailure(connect, name, TIMEOUT);
    }

    /** The slot's confirmed_flush_lsn as a number, or -1 when the slot or the value is missing. */
    static long confirmedFlush(PostgresServer pg, String slot) throws Exception {
        String value = pg.queryValue("postgres", "SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots "
                + "WHERE slot_name = '" + slot + "'");
        return value == null ? -1 : Long.parseLong(value);
    }
}
