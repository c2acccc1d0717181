package io.pgcdc.testsupport;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/** A real KRaft broker and distributed Connect worker(s) inside the test JVM, set up as tests need. */
public final class ConnectCluster {

    private ConnectCluster() {
    }

    /**
     * Starts a cluster whose workers use JSON without schemas (readable in assertions) and commit
     * offsets every 500 ms, so that slot confirmation is observable within a test's patience.
     */
    public static EmbeddedConnectCluster start(String name, int workers, Map<String, String> extraWorkerProps) {
        Map<String, String> props = new HashMap<>();
        props.put("offset.flush.interval.ms", "500");
        // A stopping source task first waits for its producer to take the batch in hand; on two busy
        // cores that can exceed the 5 s default, and a task stopped ungracefully skips its last
        // offset commit, so records are sent again after the restart.
        props.put("task.shutdown.graceful.timeout.ms", "30000");
        props.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        props.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        props.put("key.converter.schemas.enable", "false");
        props.put("value.converter.schemas.enable", "false");
        props.put("value.converter.decimal.format", "NUMERIC");
        props.putAll(extraWorkerProps);
        EmbeddedConnectCluster cluster = new EmbeddedConnectCluster.Builder()
                .name(name)
                .numWorkers(workers)
                .workerProps(props)
                .build();
        cluster.start();
        return cluster;
    }
}
