package io.pgcdc.benchmarks;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import io.pgcdc.testsupport.PostgresServer;

/**
 * What every contender shares: one throwaway PostgreSQL (an OLTP and an OLAP database) and one
 * Kafka broker with one Connect worker in this JVM, loading all four connectors from their plugin
 * directories and converting with JsonConverter, schemas on.
 */
final class TestBed implements AutoCloseable {

    private final PostgresServer server;
    private final Database oltp;
    private final Database olap;
    private final EmbeddedConnectCluster connect;
    private final Topics topics;

    private TestBed(PostgresServer server, EmbeddedConnectCluster connect) {
        this.server = server;
        this.oltp = new Database(server, "oltp");
        this.olap = new Database(server, "olap");
        this.connect = connect;
        this.topics = new Topics(connect.kafka());
    }

    static TestBed start(String pluginPath) throws Exception {
        // No checkpoint inside a measurement: it would slow whichever contender it fell on. Commit timestamps
        // time the sinks. Stopped at JVM exit too, when the run is interrupted.
        PostgresServer server = PostgresServer.start(Map.of("max_wal_size", "'4GB'", "checkpoint_timeout", "'30min'",
                "track_commit_timestamp", "on"));
        try {
            server.createDatabase("oltp");
            server.createDatabase("olap");
            Map<String, String> worker = new HashMap<>();
            worker.put("plugin.path", pluginPath);
            // Every contender declares its connectors in META-INF/services; scanning the classes of
            // Debezium's JDBC sink (Hibernate, four drivers) would add minutes on a busy machine.
            worker.put("plugin.discovery", "service_load");
            worker.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
            worker.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
            worker.put("key.converter.schemas.enable", "true");
            worker.put("value.converter.schemas.enable", "true");
            worker.put("offset.flush.interval.ms", "1000");
            worker.put("task.shutdown.graceful.timeout.ms", "30000");
            // As config-examples suggest. Connect's producers keep one request in flight; with the default
            // 16 KiB batches (about ten change events with schemas) that round trip, not the connector, caps
            // every source (inserts at scale 0.3: pgcdc 7.1k rows/s, 21.5k with 1 MiB batches, 25.1k with lz4 too).
            worker.put("producer.batch.size", String.valueOf(1024 * 1024));
            worker.put("producer.compression.type", "lz4");
            worker.put("producer.max.request.size", String.valueOf(4 * 1024 * 1024));
            // The sinks' batch sizes are set per connector (consumer.override.*).
            worker.put("connector.client.config.override.policy", "All");
            Properties broker = new Properties();
            broker.put("transaction.state.log.replication.factor", "1");
            broker.put("transaction.state.log.min.isr", "1");
            broker.put("message.max.bytes", String.valueOf(16 * 1024 * 1024));
            EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder().name("pgcdc-benchmarks").numWorkers(1)
                    .workerProps(worker).brokerProps(broker).build();
            connect.start();
            return new TestBed(server, connect);
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
    }

    PostgresServer server() {
        return server;
    }

    Database oltp() {
        return oltp;
    }

    Database olap() {
        return olap;
    }

    Topics topics() {
        return topics;
    }

    /**
     * Creates the connector and waits until {@code done}; fails early with the task's trace when the
     * connector or its task fails. The connector is deleted afterwards, so that it costs the next
     * contender nothing.
     */
    void runConnector(String name, Map<String, String> config, Duration timeout, BooleanSupplier done) {
        connect.configureConnector(name, config);
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            long nextStatus = 0;
            while (!done.getAsBoolean()) {
                // A status request is a REST round trip through the worker: once a second is enough.
                if (System.nanoTime() > nextStatus) {
                    failIfFailed(name);
                    nextStatus = System.nanoTime() + 1_000_000_000L;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s");
                }
                sleep(100);
            }
        } finally {
            connect.deleteConnector(name);
        }
    }

    /** Creates a connector that keeps running until {@link #deleteConnector}. */
    void startConnector(String name, Map<String, String> config) {
        connect.configureConnector(name, config);
    }

    void deleteConnector(String name) {
        connect.deleteConnector(name);
    }

    void failIfFailed(String name) {
        ConnectorStateInfo info;
        try {
            info = connect.connectorStatus(name);
        } catch (RuntimeException e) {
            return; // not reported yet
        }
        if ("FAILED".equals(info.connector().state())) {
            throw new IllegalStateException("connector failed: " + firstLine(info.connector().trace()));
        }
        for (ConnectorStateInfo.TaskState task : info.tasks()) {
            if ("FAILED".equals(task.state())) {
                System.err.println(task.trace());
                throw new IllegalStateException("task failed: " + firstLine(task.trace()));
            }
        }
    }

    private static String firstLine(String trace) {
        return trace == null ? "no trace" : trace.lines().findFirst().orElse("").replace('|', '/');
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            topics.close();
            connect.stop();
        } finally {
            server.close();
        }
    }
}
