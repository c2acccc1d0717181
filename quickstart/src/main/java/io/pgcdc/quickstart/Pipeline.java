package io.pgcdc.quickstart;

import java.io.IOException;
import java.io.Reader;
import java.lang.management.ManagementFactory;
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

import javax.management.JMException;
import javax.management.ObjectName;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The whole pipeline: an OLTP and an OLAP PostgreSQL, and a Connect distributed worker running
 * both connectors, configured through the REST API from config-examples/. By default everything
 * is started here (PostgreSQL from the local binaries, Kafka and Connect in this JVM, the
 * connectors loaded from their packaged plugin directories); each part can be an existing one.
 */
public final class Pipeline implements AutoCloseable {

    static final String OLTP_DB = "app";
    static final String OLAP_DB = "analytics";
    static final String SOURCE = "pgcdc-source";
    static final String SINK = "pgcdc-sink";
    private static final String SLOT = "pgcdc_app";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param pluginPath  plugin directories for an embedded worker, as its {@code plugin.path}
     * @param examples    the config-examples directory
     * @param oltpUrl     an existing OLTP database (JDBC URL with user and password), or null for a throwaway one
     * @param olapUrl     the same for the OLAP database
     * @param connectUrl  an existing Connect REST endpoint with both plugins installed, or null to start one
     */
    public record Options(String pluginPath, Path examples, String oltpUrl, String olapUrl, String connectUrl) { }

    private final Database oltp;
    private final Database olap;
    private final EmbeddedConnectCluster connect;
    private final String restUrl;
    private final Path examples;
    private final HttpClient http = HttpClient.newHttpClient();
    private boolean closed;

    private Pipeline(Database oltp, Database olap, EmbeddedConnectCluster connect, String restUrl, Path examples) {
        this.oltp = oltp;
        this.olap = olap;
        this.connect = connect;
        this.restUrl = restUrl;
        this.examples = examples;
    }

    public static Pipeline start(Options options) throws Exception {
        // Stopped by close(), after Connect: stopped first, its tasks would wait out their retries.
        Database oltp = options.oltpUrl() == null ? Database.throwaway(OLTP_DB) : Database.existing(options.oltpUrl());
        Database olap = null;
        try {
            olap = options.olapUrl() == null ? Database.throwaway(OLAP_DB) : Database.existing(options.olapUrl());
            applySchemaIfMissing(oltp, "time_entries", options.examples().resolve("oltp-schema.sql"));
            applySchemaIfMissing(olap, "olap.time_entries", options.examples().resolve("olap-schema.sql"));
            if (options.connectUrl() != null) {
                return new Pipeline(oltp, olap, null, options.connectUrl().replaceAll("/$", ""), options.examples());
            }
            EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder().name("pgcdc-quickstart").numWorkers(1)
                    .workerProps(workerProps(options.examples(), options.pluginPath())).brokerProps(brokerProps()).build();
            connect.start();
            return new Pipeline(oltp, olap, connect, connect.endpointForResource("").replaceAll("/$", ""),
                    options.examples());
        } catch (Exception | Error e) {
            // Nothing else will stop the servers this run started.
            if (olap != null) {
                olap.close();
            }
            oltp.close();
            throw e;
        }
    }

    /** The worked example's schema, unless an earlier run (or the operator) already created it. */
    private static void applySchemaIfMissing(Database db, String table, Path schema) throws Exception {
        if (db.queryValue("SELECT to_regclass('" + table + "')") == null) {
            db.execute(Files.readString(schema));
        }
    }

    /** The example worker's settings, with this machine's addresses (bootstrap and listeners are the cluster's). */
    static Map<String, String> workerProps(Path examples, String pluginPath) throws IOException {
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
    static Properties brokerProps() {
        Properties broker = new Properties();
        broker.put("transaction.state.log.replication.factor", "1");
        broker.put("transaction.state.log.min.isr", "1");
        return broker;
    }

    public Database oltp() {
        return oltp;
    }

    public Database olap() {
        return olap;
    }

    public String restUrl() {
        return restUrl;
    }

    /** PUT /connectors/NAME/config for both connectors, from the config-examples files with these databases' addresses. */
    public void registerConnectors() throws Exception {
        Map<String, String> source = example("source-connector.json");
        source.put("database.hostname", oltp.host());
        source.put("database.port", String.valueOf(oltp.port()));
        source.put("database.user", oltp.user());
        source.put("database.password", oltp.password());
        source.put("database.dbname", oltp.name());
        rest("PUT", "/connectors/" + SOURCE + "/config", JSON.writeValueAsString(source));
        Map<String, String> sink = example("sink-connector.json");
        sink.put("connection.url", olap.jdbcUrl());
        sink.put("connection.username", olap.user());
        sink.put("connection.password", olap.password());
        rest("PUT", "/connectors/" + SINK + "/config", JSON.writeValueAsString(sink));
    }

    private Map<String, String> example(String file) throws Exception {
        return JSON.readValue(examples.resolve(file).toFile(), new TypeReference<Map<String, String>>() { });
    }

    private HttpResponse<String> rest(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(restUrl + path)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300 && response.statusCode() != 404) {
            throw new IllegalStateException(method + " " + path + ": " + response.statusCode() + " " + response.body());
        }
        return response;
    }

    /** Both connectors and their tasks RUNNING. */
    public boolean running() throws Exception {
        for (String name : List.of(SOURCE, SINK)) {
            HttpResponse<String> response = rest("GET", "/connectors/" + name + "/status", null);
            if (response.statusCode() == 404) {
                return false; // until the worker has written the connector's first status
            }
            JsonNode status = JSON.readTree(response.body());
            JsonNode tasks = status.path("tasks");
            if (!"RUNNING".equals(status.path("connector").path("state").asText()) || tasks.isEmpty()) {
                return false;
            }
            for (JsonNode task : tasks) {
                if (!"RUNNING".equals(task.path("state").asText())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** POST /connectors/pgcdc-source/restart?includeTasks=true, as an operator would. */
    public void restartSource() throws Exception {
        rest("POST", "/connectors/" + SOURCE + "/restart?includeTasks=true", null);
    }

    /**
     * Rows the source task's snapshot read plus changes it streamed since it started, from its MBean;
     * -1 when the worker is elsewhere.
     */
    public long changesCaptured() {
        if (connect == null) {
            return -1;
        }
        try {
            ObjectName task = new ObjectName("io.pgcdc:type=source-task-metrics,connector=" + SOURCE + ",task=0");
            var server = ManagementFactory.getPlatformMBeanServer();
            return (Long) server.getAttribute(task, "SnapshotRowsDone") + (Long) server.getAttribute(task, "ChangesEmitted");
        } catch (JMException e) {
            return 0; // the task has not started (or is restarting)
        }
    }

    public long rowsApplied() throws SQLException {
        return Long.parseLong(olap.queryValue("SELECT count(*) FROM olap.time_entries"));
    }

    /** WAL the source's slot still holds back, in bytes. */
    public long slotLagBytes() throws SQLException {
        String value = oltp.queryValue("SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots "
                + "WHERE slot_name = '" + SLOT + "'");
        return value == null ? -1 : (long) Double.parseDouble(value);
    }

    /** Seconds of time tracked per team: "team|seconds" rows, from the OLTP tables. */
    public List<String> oltpTeamTotals() throws SQLException {
        return rows(oltp, "SELECT p.team_id, sum(e.duration_s) FROM time_entries e JOIN projects p "
                + "ON p.id = e.project_id GROUP BY p.team_id HAVING sum(e.duration_s) <> 0 ORDER BY 1");
    }

    /** The same, from the OLAP side: totals kept by the statement-level triggers. */
    public List<String> olapTeamTotals() throws SQLException {
        return rows(olap, "SELECT team_id, total_s FROM olap.team_totals WHERE total_s <> 0 ORDER BY 1");
    }

    private static List<String> rows(Database db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (var c = db.connect(); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1) + "|" + rs.getString(2));
            }
        }
        return out;
    }

    /** On an existing worker, this run's connectors are what it started; the slot stays for the next run. */
    private void deleteConnectors() {
        for (String name : List.of(SOURCE, SINK)) {
            try {
                rest("DELETE", "/connectors/" + name, null);
            } catch (Exception e) {
                System.err.println("Could not delete connector " + name + " from " + restUrl + ": " + e.getMessage());
            }
        }
    }

    /** Stops what this run started: Connect, then the databases; safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (connect != null) {
                connect.stop();
            } else {
                deleteConnectors();
            }
        } finally {
            olap.close();
            oltp.close();
        }
    }
}
