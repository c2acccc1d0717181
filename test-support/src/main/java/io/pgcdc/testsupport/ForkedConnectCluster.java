package io.pgcdc.testsupport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;

/**
 * A broker in this JVM and a Connect cluster of workers each in its own JVM, so that a test can
 * kill one (SIGKILL) and add another, as happens to real clusters. Workers share a group and
 * internal topics; a lost worker's connectors move to the others after two seconds.
 */
public final class ForkedConnectCluster implements AutoCloseable {

    private final EmbeddedKafkaCluster kafka;
    private final String name;
    private final Map<String, String> workerProps;
    private final List<ForkedConnectWorker> workers = Collections.synchronizedList(new ArrayList<>());

    /** @param workerProps settings every worker gets on top of the cluster's own */
    public ForkedConnectCluster(String name, Map<String, String> workerProps) {
        Properties broker = new Properties();
        // One broker: the transaction log (exactly-once source) cannot have three replicas.
        broker.put("transaction.state.log.replication.factor", "1");
        broker.put("transaction.state.log.min.isr", "1");
        this.kafka = new EmbeddedKafkaCluster(1, broker);
        this.kafka.start();
        this.name = name;
        this.workerProps = workerProps;
    }

    public EmbeddedKafkaCluster kafka() {
        return kafka;
    }

    public ForkedConnectWorker startWorker() throws Exception {
        return startWorker(Map.of());
    }

    /** A worker with {@code extra} on top of the cluster's settings (say, offsets flushed only at long intervals). */
    public ForkedConnectWorker startWorker(Map<String, String> extra) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("group.id", name);
        props.put("config.storage.topic", name + "-configs");
        props.put("offset.storage.topic", name + "-offsets");
        props.put("status.storage.topic", name + "-status");
        props.put("offset.flush.interval.ms", "200");
        // A lost worker's connectors are reassigned after this delay (5 minutes by default).
        props.put("scheduled.rebalance.max.delay.ms", "2000");
        props.put("task.shutdown.graceful.timeout.ms", "30000");
        props.putAll(workerProps);
        props.putAll(extra);
        ForkedConnectWorker worker = ForkedConnectWorker.start(kafka.bootstrapServers(), "512m",
                Path.of("target", name + "-workers"), props);
        workers.add(worker);
        return worker;
    }

    /** Starts {@code count} workers at once: much of a worker's start is waiting on the broker and the group. */
    public List<ForkedConnectWorker> startWorkers(int count) throws Exception {
        ExecutorService starter = Executors.newFixedThreadPool(count);
        try {
            List<Future<ForkedConnectWorker>> starting = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                starting.add(starter.submit(() -> startWorker()));
            }
            List<ForkedConnectWorker> started = new ArrayList<>();
            for (Future<ForkedConnectWorker> worker : starting) {
                started.add(worker.get());
            }
            return started;
        } finally {
            starter.shutdown();
        }
    }

    /** A running worker, started if there is none. */
    public ForkedConnectWorker anyWorker() throws Exception {
        synchronized (workers) {
            for (ForkedConnectWorker worker : workers) {
                if (worker.isAlive()) {
                    return worker;
                }
            }
        }
        return startWorker();
    }

    /** The live worker running {@code connector}'s first task, once one does. */
    public ForkedConnectWorker runningTaskOf(String connector) throws Exception {
        ForkedConnectWorker[] found = new ForkedConnectWorker[1];
        Await.until(Duration.ofMinutes(1), "a worker to run " + connector + "'s task", () -> {
            String workerId = anyWorker().status(connector).path("tasks").path(0).path("worker_id").asText("");
            synchronized (workers) {
                for (ForkedConnectWorker worker : workers) {
                    if (worker.isAlive() && worker.restUrl().endsWith("//" + workerId)) {
                        found[0] = worker;
                    }
                }
            }
            return found[0] != null;
        });
        return found[0];
    }

    /** Kills every live worker (SIGKILL): the next worker started is the only one, and runs every task. */
    public void killWorkers() throws InterruptedException {
        for (ForkedConnectWorker worker : List.copyOf(workers)) {
            if (worker.isAlive()) {
                worker.kill();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (ForkedConnectWorker worker : List.copyOf(workers)) {
            worker.close();
        }
        kafka.stop();
    }
}
