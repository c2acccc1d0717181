package io.pgcdc.quickstart;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ForkedConnectCluster;
import io.pgcdc.testsupport.ForkedConnectWorker;
import io.pgcdc.testsupport.PostgresServer;

/**
 * The worked example with a handle on every part a fault hits: an OLTP and an OLAP PostgreSQL, a
 * broker in this JVM and Connect workers in their own JVMs sharing one group, loading both plugins
 * from their packaged directories with the example worker settings (exactly-once source,
 * read_committed sinks), the connectors registered from config-examples/ through REST.
 */
final class SoakRig implements AutoCloseable {

    static final String OLTP_DB = "app";
    static final String OLAP_DB = "analytics";
    static final String SOURCE = "pgcdc-source";
    static final String SINK = "pgcdc-sink";
    static final String SLOT = "pgcdc_app";
    static final String DLQ = "app.olap.dlq";
    static final Duration RECOVERY = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    final PostgresServer oltp;
    final PostgresServer olap;
    final ForkedConnectCluster connect;
    private final Path examples;
    /** Oldest first: the next worker replaced is the one that has been up longest. */
    private final Deque<ForkedConnectWorker> workers = new ArrayDeque<>();
    /** A set: the status may still read FAILED for a while after the restart was asked for. */
    private final Set<String> taskFailures = new LinkedHashSet<>();

    private SoakRig(PostgresServer oltp, PostgresServer olap, ForkedConnectCluster connect, Path examples) {
        this.oltp = oltp;
        this.olap = olap;
        this.connect = connect;
        this.examples = examples;
    }

    static SoakRig start(Path examples, String pluginPath, int workers) throws Exception {
        PostgresServer oltp = PostgresServer.start();
        PostgresServer olap = PostgresServer.start();
        oltp.createDatabase(OLTP_DB);
        olap.createDatabase(OLAP_DB);
        oltp.execute(OLTP_DB, Files.readString(examples.resolve("oltp-schema.sql")));
        olap.execute(OLAP_DB, Files.readString(examples.resolve("olap-schema.sql")));
        Map<String, String> workerProps = new HashMap<>(Pipeline.workerProps(examples, pluginPath));
        // The cluster's broker and each worker's own REST port, not the example's addresses.
        workerProps.remove("bootstrap.servers");
        workerProps.remove("listeners");
        SoakRig rig = new SoakRig(oltp, olap, new ForkedConnectCluster("soak", workerProps), examples);
        rig.workers.addAll(rig.connect.startWorkers(workers));
        return rig;
    }

    Database oltpDatabase() {
        return Database.existing(oltp.jdbcUrl(OLTP_DB) + "?user=postgres");
    }

    void registerConnectors() throws Exception {
        Map<String, String> source = example("source-connector.json");
        source.put("database.hostname", oltp.host());
        source.put("database.port", String.valueOf(oltp.port()));
        source.put("database.user", "postgres");
        source.put("database.password", "");
        source.put("database.dbname", OLTP_DB);
        worker().putConnector(SOURCE, source);
        Map<String, String> sink = example("sink-connector.json");
        sink.put("connection.url", olap.jdbcUrl(OLAP_DB));
        sink.put("connection.username", "postgres");
        sink.put("connection.password", "");
        worker().putConnector(SINK, sink);
    }

    private Map<String, String> example(String file) throws Exception {
        return JSON.readValue(examples.resolve(file).toFile(), new TypeReference<Map<String, String>>() { });
    }

    /** The oldest live worker: any worker forwards REST requests to the leader. */
    ForkedConnectWorker worker() {
        return workers.stream().filter(ForkedConnectWorker::isAlive).findFirst()
                .orElseThrow(() -> new IllegalStateException("no live worker"));
    }

    /** POST, retried while the group rebalances (409) or a worker cannot answer yet. */
    void post(String path) {
        Await.until(RECOVERY, "POST " + path + " to succeed", () -> {
            HttpResponse<String> response = worker().post(path);
            return response.statusCode() < 300;
        });
    }

    /** Stops (SIGTERM) or kills (SIGKILL) the oldest worker and adds a new one; says which. */
    String replaceWorker(boolean kill) throws Exception {
        ForkedConnectWorker old = workers.removeFirst();
        if (kill) {
            old.kill();
        } else {
            old.close();
        }
        ForkedConnectWorker added = connect.startWorker();
        workers.addLast(added);
        return (kill ? "killed " : "stopped ") + old.restUrl() + ", added " + added.restUrl();
    }

    /**
     * Waits until both connectors and their tasks run on live workers. A task that failed is
     * recorded with the first line of its trace and restarted, as an operator would.
     */
    void awaitRunning(String after) {
        Await.until(RECOVERY, () -> "both connectors running after " + after, () -> {
            boolean running = true;
            for (String name : List.of(SOURCE, SINK)) {
                JsonNode status = worker().status(name);
                running &= runningOnLiveWorker(status.path("connector"));
                JsonNode tasks = status.path("tasks");
                running &= !tasks.isEmpty();
                for (JsonNode task : tasks) {
                    if ("FAILED".equals(task.path("state").asText())) {
                        taskFailures.add(after + ": " + name + " task " + task.path("id").asText() + " failed: "
                                + task.path("trace").asText().lines().findFirst().orElse(""));
                        post("/connectors/" + name + "/restart?includeTasks=true&onlyFailed=true");
                        return false;
                    }
                    running &= runningOnLiveWorker(task);
                }
            }
            return running;
        });
    }

    /** RUNNING as last reported, by a worker that is still alive (a killed worker's status stays RUNNING). */
    private boolean runningOnLiveWorker(JsonNode state) {
        String workerId = state.path("worker_id").asText();
        String port = workerId.substring(workerId.lastIndexOf(':') + 1);
        return "RUNNING".equals(state.path("state").asText()) && !port.isEmpty()
                && workers.stream().anyMatch(w -> w.isAlive() && w.restUrl().endsWith(":" + port));
    }

    /** Tasks seen FAILED (and restarted) after a fault, in order. */
    List<String> taskFailures() {
        return List.copyOf(taskFailures);
    }

    @Override
    public void close() throws Exception {
        // Connect first: stopped databases would keep its tasks in their retries.
        try {
            connect.close();
        } finally {
            olap.close();
            oltp.close();
        }
    }
}
