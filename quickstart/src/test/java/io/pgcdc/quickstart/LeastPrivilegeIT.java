package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * The worked example exactly as config-examples/ gives it — schemas, roles with their grants, worker
 * settings, connector configs — with password authentication and the passwords read through the
 * worker's FileConfigProvider: the source runs as a user with only REPLICATION and SELECT, the sink as
 * one with only SELECT, INSERT, UPDATE, DELETE; neither password shows in REST responses or logs; a
 * privilege taken away is named.
 */
@Tag("compat")
class LeastPrivilegeIT {

    private static final Path EXAMPLES = Path.of(System.getProperty("pgcdc.config.examples"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OLTP = "app";
    private static final String OLAP = "analytics";
    /** Distinct from every other string a log line could hold, so that finding it means a leak. */
    private static final String CDC_PASSWORD = "oltp-" + UUID.randomUUID();
    private static final String SINK_PASSWORD = "olap-" + UUID.randomUUID();
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;
    private static Path secrets;

    @org.junit.jupiter.api.io.TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        // scram-sha-256 is the default from PostgreSQL 14 on; before, passwords are stored as md5 unless told.
        pg = PostgresServer.start(Map.of("password_encryption", "'scram-sha-256'"), null, List.of(
                "host all cdc,sink 127.0.0.1/32 scram-sha-256",
                "host replication cdc 127.0.0.1/32 scram-sha-256"));
        pg.createDatabase(OLTP);
        pg.createDatabase(OLAP);
        pg.execute(OLTP, Files.readString(EXAMPLES.resolve("oltp-schema.sql")), Files.readString(EXAMPLES.resolve("oltp-roles.sql")),
                "ALTER ROLE cdc PASSWORD '" + CDC_PASSWORD + "'");
        pg.execute(OLAP, Files.readString(EXAMPLES.resolve("olap-schema.sql")), Files.readString(EXAMPLES.resolve("olap-roles.sql")),
                "ALTER ROLE sink PASSWORD '" + SINK_PASSWORD + "'");
        pg.execute(OLTP, "INSERT INTO teams VALUES (1, 'core')", "INSERT INTO users VALUES (1, 1, 'a@example.com')",
                "INSERT INTO projects VALUES (1, 1, 'existing')");
        secrets = dir.resolve("secrets.properties");
        Files.writeString(secrets, "oltp.password=" + CDC_PASSWORD + "\nolap.password=" + SINK_PASSWORD + "\n");
        connect = new EmbeddedConnectCluster.Builder().name("least-privilege").numWorkers(1)
                .workerProps(Pipeline.workerProps(EXAMPLES, System.getProperty("pgcdc.plugin.path")))
                .brokerProps(Pipeline.brokerProps()).build();
        connect.start();
    }

    @AfterAll
    static void stop() {
        if (connect != null) {
            connect.stop();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** An example connector config with this server's address and the secrets file's path. */
    private static Map<String, String> example(String file) throws Exception {
        Map<String, String> config = JSON.readValue(EXAMPLES.resolve(file).toFile(), new TypeReference<>() { });
        config.replaceAll((key, value) -> value.replace("/etc/kafka-connect/secrets.properties", secrets.toString())
                .replace("//olap:5432/", "//" + pg.host() + ":" + pg.port() + "/"));
        config.computeIfPresent("database.hostname", (key, value) -> pg.host());
        config.computeIfPresent("database.port", (key, value) -> String.valueOf(pg.port()));
        return config;
    }

    private static String get(String resource) {
        return String.valueOf(connect.requestGet(connect.endpointForResource(resource)).getEntity());
    }

    private static void assertNoPassword(String where, String text) {
        assertFalse(text.contains(CDC_PASSWORD) || text.contains(SINK_PASSWORD), where + " reveals a password: " + text);
    }

    @Test
    void theExampleRunsWithTheExampleGrantsAndPasswordsFromAFile() throws Exception {
        Map<String, String> source = example("source-connector.json");
        Map<String, String> sink = example("sink-connector.json");
        source.put("name", "pgcdc-source");
        sink.put("name", "pgcdc-sink");
        assertTrue(source.get("database.password").startsWith("${file:" + secrets), source.toString());
        assertTrue(sink.get("connection.password").startsWith("${file:" + secrets), sink.toString());
        try (LogWatch logs = LogWatch.start(CDC_PASSWORD, SINK_PASSWORD, "connection.password = [hidden]")) {
            assertEquals(Map.of(), PluginWorker.validationErrors(connect, source), "validated as cdc, with the file's password");
            assertEquals(Map.of(), PluginWorker.validationErrors(connect, sink));
            connect.configureConnector("pgcdc-source", source);
            connect.configureConnector("pgcdc-sink", sink);
            ConnectorStatus.awaitRunning(connect, "pgcdc-source", PluginWorker.TIMEOUT);
            ConnectorStatus.awaitRunning(connect, "pgcdc-sink", PluginWorker.TIMEOUT);

            pg.execute(OLTP, "INSERT INTO time_entries (user_id, project_id, duration_s) VALUES (1, 1, 3600)",
                    "UPDATE projects SET name = 'renamed' WHERE id = 1");
            Await.until(PluginWorker.TIMEOUT, "the snapshot row, the new entry and the update in the OLAP tables",
                    () -> "renamed".equals(pg.queryValue(OLAP, "SELECT name FROM olap.projects WHERE id = 1"))
                            && "3600".equals(pg.queryValue(OLAP, "SELECT total_s FROM olap.project_totals WHERE project_id = 1")));
            assertEquals("cdc", pg.queryValue(OLTP, "SELECT usename FROM pg_stat_replication WHERE application_name = 'pgcdc-source'"));
            assertEquals("sink", pg.queryValue(OLAP, "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'pgcdc-sink'"));

            assertTrue(get("connectors/pgcdc-source/config").contains("${file:" + secrets + ":oltp.password}"),
                    "Connect returns the reference, not the value");
            for (String name : List.of("pgcdc-source", "pgcdc-sink")) {
                for (String resource : List.of("", "/config", "/tasks", "/status")) {
                    assertNoPassword("GET /connectors/" + name + resource, get("connectors/" + name + resource));
                }
            }
            assertNoPassword("validation", String.valueOf(connect.validateConnectorConfig("PgSinkConnector", sink)));
            assertFalse(logs.containing("connection.password = [hidden]").isEmpty(), "the watch sees the sink's config log");
            assertEquals(List.of(), logs.containing(CDC_PASSWORD));
            assertEquals(List.of(), logs.containing(SINK_PASSWORD));
        }
    }

    @Test
    void aPrivilegeTakenAwayIsNamed() throws Exception {
        pg.execute(OLAP, "CREATE TABLE olap.audit (id bigint PRIMARY KEY, updated_at timestamptz, pgcdc_position numeric)",
                "GRANT SELECT, INSERT, UPDATE ON olap.audit TO sink");
        Map<String, String> sink = new HashMap<>(example("sink-connector.json"));
        sink.remove("topics.regex");
        sink.put("topics", "app.public.audit");
        String error = PluginWorker.validationErrors(connect, sink).get("connection.username").get(0);
        assertTrue(error.contains("User \"sink\" lacks DELETE on olap.audit"), error);

        Map<String, String> source = example("source-connector.json");
        source.put("table.include.list", "public\\.(teams|users)");
        source.put("slot.name", "narrower");
        String publication = PluginWorker.validationErrors(connect, source).get("publication.autocreate.mode").get(0);
        assertTrue(publication.contains("Publication \"pgcdc_app\" covers"), publication);
        assertTrue(publication.contains("only its owner"), publication);
    }
}
