package io.pgcdc.testsupport;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Connect distributed worker in its own JVM (so its heap can be capped), on this JVM's
 * classpath, talking to a broker in this JVM, driven through its REST API like operators do.
 */
public final class ForkedConnectWorker implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final Path log;
    private final String rest;
    private final HttpClient http = HttpClient.newHttpClient();

    private ForkedConnectWorker(Process process, Path log, String rest) {
        this.process = process;
        this.log = log;
        this.rest = rest;
    }

    /** Starts a worker with {@code -Xmx<heap>} and waits for its REST API. */
    public static ForkedConnectWorker start(String bootstrapServers, String heap, Path dir, Map<String, String> extra)
            throws Exception {
        return start(bootstrapServers, heap, dir, extra, List.of());
    }

    /** The same, with more JVM options (agents, system properties). */
    public static ForkedConnectWorker start(String bootstrapServers, String heap, Path dir, Map<String, String> extra,
                                            List<String> jvmOptions) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("group.id", "forked-" + port);
        props.put("config.storage.topic", "forked-configs-" + port);
        props.put("offset.storage.topic", "forked-offsets-" + port);
        props.put("status.storage.topic", "forked-status-" + port);
        props.put("config.storage.replication.factor", "1");
        props.put("offset.storage.replication.factor", "1");
        props.put("status.storage.replication.factor", "1");
        props.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        props.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        props.put("key.converter.schemas.enable", "false");
        props.put("value.converter.schemas.enable", "false");
        props.put("listeners", "http://127.0.0.1:" + port);
        props.put("offset.flush.interval.ms", "1000");
        props.putAll(extra);
        Files.createDirectories(dir);
        Path config = dir.resolve("worker-" + port + ".properties");
        try (var out = Files.newBufferedWriter(config)) {
            props.store(out, null);
        }
        Path log = dir.resolve("worker-" + port + ".log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
                "-XX:+ExitOnOutOfMemoryError"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                "org.apache.kafka.connect.cli.ConnectDistributed", config.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ForkedConnectWorker worker = new ForkedConnectWorker(process, log, "http://127.0.0.1:" + port);
        Await.until(Duration.ofSeconds(90), "the forked worker's REST API (log: " + log + ")", () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("forked worker exited; see " + log);
            }
            return worker.get("/connectors").statusCode() == 200;
        });
        return worker;
    }

    /** The REST endpoint, e.g. {@code http://127.0.0.1:8083}. */
    public String restUrl() {
        return rest;
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(rest + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POST without a body, e.g. {@code /connectors/NAME/restart?includeTasks=true}; the response as it came. */
    public HttpResponse<String> post(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(rest + path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public void putConnector(String name, Map<String, String> config) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(rest + "/connectors/" + name + "/config"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(config))).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException("PUT connector " + name + ": " + response.statusCode() + " " + response.body());
        }
    }

    /** DELETE /connectors/NAME: the connector goes; Connect keeps its offsets. */
    public void deleteConnector(String name) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(rest + "/connectors/" + name))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException("DELETE connector " + name + ": " + response.statusCode() + " " + response.body());
        }
    }

    /** The connector's status document, as GET /connectors/NAME/status returns it. */
    public JsonNode status(String name) throws IOException, InterruptedException {
        return JSON.readTree(get("/connectors/" + name + "/status").body());
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public File log() {
        return log.toFile();
    }

    /** SIGKILL: the worker gets no chance to commit, abort or close anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
