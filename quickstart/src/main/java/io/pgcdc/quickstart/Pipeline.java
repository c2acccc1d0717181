package io.pgcdc.quickstart;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.runtime.rest.errors.ConnectRestException;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.pgcdc.testsupport.PostgresServer;

/**
 * The whole pipeline on this machine: an OLTP and an OLAP PostgreSQL from the local binaries,
 * a Kafka broker and a Connect distributed worker in this JVM that loads both connectors from
 * their packaged plugin directories, configured through the REST API from config-examples/.
 */
public final class Pipeline implements AutoCloseable {

    static final String OLTP_DB = "app";
    static final String OLAP_DB = "analytics";
    static final String SOURCE = "pgcdc-source";
    static final String SINK = "pgcdc-sink";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PostgresServer oltp;
    private final PostgresServer olap;
    private final EmbeddedConnectCluster connect;
    private final Path examples;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Admin admin;
    private boolean closed;

    private Pipeline(PostgresServer oltp, PostgresServer olap, EmbeddedConnectCluster connect, Path examples) {
        this.oltp = oltp;
        this.olap = olap;
        this.connect = connect;
        this.examples = examples;
        this.admin = connect.kafka().createAdminClient();
    }

    /** @param pluginPath comma-separated plugin directories, as a worker's {@code plugin.path} */
    public static Pipeline start(String pluginPath, Path examples) throws Exception {
        // Stopped by close(), after Connect: stopped first, its tasks would wait out their retries.
        PostgresServer oltp = PostgresServer.startUnmanaged(Map.of());
        PostgresServer olap = PostgresServer.startUnmanaged(Map.of());
        oltp.createDatabase(OLTP_DB);
        olap.createDatabase(OLAP_DB);
        oltp.execute(OLTP_DB, Files.readString(examples.resolve("oltp-schema.sql")));
        olap.execute(OLAP_DB, Files.readString(examples.resolve("olap-schema.sql")));
        EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder().name("pgcdc-quickstart").numWorkers(1)
                .workerProps(workerProps(examples, pluginPath)).brokerProps(brokerProps()).build();
        connect.start();
        return new Pipeline(oltp, olap, connect, examples);
    }

    /** The example worker's settings, with this machine's addresses (bootstrap and listeners are the cluster's). */
    private static Map<String, String> workerProps(Path examples, String pluginPath) throws IOException {
        Properties file = new Properties();
        try (Reader in = Files.newBufferedReader(examples.resolve("connect-distributed.properties"))) {
            file.load(in);
        }
        Map<String, String> worker = new HashMap<>();
        file.stringPropertyNames().forEach(name -> worker.put(name, file.getProperty(name)));
        worker.remove("rest.advertised.host.name");
        worker.put("plugin.path", pluginPath);
        // Slot confirmation and the progress figures follow offset commits: commit often here.
        worker.put("offset.flush.interval.ms", "1000");
        return worker;
    }

    /** One broker: the transaction log (exactly-once source) cannot have three replicas. */
    private static Properties brokerProps() {
        Properties broker = new Properties();
        broker.put("transaction.state.log.replication.factor", "1");
        broker.put("transaction.state.log.min.isr", "1");
        return broker;
    }

    public PostgresServer oltp() {
        return oltp;
    }

    public PostgresServer olap() {
        return olap;
    }

    public EmbeddedConnectCluster connect() {
        return connect;
    }

    public String restUrl() {
        return connect.endpointForResource("").replaceAll("/$", "");
    }

    /** PUT /connectors/NAME/config for both connectors, from the config-examples files with this machine's addresses. */
    public void registerConnectors() throws Exception {
        Map<String, String> source = example("source-connector.json");
        source.put("database.hostname", oltp.host());
        source.put("database.port", String.valueOf(oltp.port()));
        source.put("database.user", "postgres");
        source.put("database.password", "");
        source.put("database.dbname", OLTP_DB);
        put(SOURCE, source);
        Map<String, String> sink = example("sink-connector.json");
        sink.put("connection.url", olap.jdbcUrl(OLAP_DB));
        sink.put("connection.username", "postgres");
        sink.put("connection.password", "");
        put(SINK, sink);
    }

    private Map<String, String> example(String file) throws Exception {
        return JSON.readValue(examples.resolve(file).toFile(), new TypeReference<Map<String, String>>() { });
    }

    private void put(String name, Map<String, String> config) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(restUrl() + "/connectors/" + name + "/config"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(config)))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException("PUT /connectors/" + name + "/config: " + response.statusCode() + " " + response.body());
        }
    }

    /** Both connectors and their tasks RUNNING. */
    public boolean running() {
        for (String name : List.of(SOURCE, SINK)) {
            ConnectorStateInfo status;
            try {
                status = connect.connectorStatus(name);
            } catch (ConnectRestException e) {
                return false; // 404 until the worker has written the connector's first status
            }
            if (!"RUNNING".equals(status.connector().state()) || status.tasks().isEmpty()
                    || status.tasks().stream().anyMatch(t -> !"RUNNING".equals(t.state()))) {
                return false;
            }
        }
        return true;
    }

    /** Change records in the source's topics. */
    public long changesCaptured() throws Exception {
        Set<String> topics = admin.listTopics().names().get().stream().filter(t -> t.startsWith("app.public."))
                .collect(Collectors.toSet());
        if (topics.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get().forEach((name, d) -> d.partitions()
                .forEach(p -> request.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        return admin.listOffsets(request).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }

    public long rowsApplied() throws SQLException {
        return Long.parseLong(olap.queryValue(OLAP_DB, "SELECT count(*) FROM olap.time_entries"));
    }

    /** WAL the source's slot still holds back, in bytes. */
    public long slotLagBytes() throws SQLException {
        String value = oltp.queryValue(OLTP_DB, "SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots "
                + "WHERE slot_name = 'pgcdc_app'");
        return value == null ? -1 : (long) Double.parseDouble(value);
    }

    /** Seconds of time tracked per team: "team|seconds" rows, from the OLTP tables. */
    public List<String> oltpTeamTotals() throws SQLException {
        return rows(oltp, OLTP_DB, "SELECT p.team_id, sum(e.duration_s) FROM time_entries e JOIN projects p "
                + "ON p.id = e.project_id GROUP BY p.team_id HAVING sum(e.duration_s) <> 0 ORDER BY 1");
    }

    /** The same, from the OLAP side: totals kept by the statement-level triggers. */
    public List<String> olapTeamTotals() throws SQLException {
        return rows(olap, OLAP_DB, "SELECT team_id, total_s FROM olap.team_totals WHERE total_s <> 0 ORDER BY 1");
    }

    private static List<String> rows(PostgresServer server, String db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (var c = server.connect(db); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1) + "|" + rs.getString(2));
            }
        }
        return out;
    }

    /** Stops Connect, then both databases; safe to call twice (the shutdown hook and the caller). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            admin.close();
            connect.stop();
        } finally {
            olap.close();
            oltp.close();
        }
    }
}
