package io.pgcdc.testsupport;

import java.time.Duration;

import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/** Waits on a connector's state as GET /connectors/NAME/status reports it. */
public final class ConnectorStatus {

    private ConnectorStatus() {
    }

    /** Waits for the connector and its single task to run. */
    public static void awaitRunning(EmbeddedConnectCluster connect, String name, Duration timeout) {
        Await.until(timeout, () -> "connector " + name + " and its task to run: " + describe(connect, name), () -> {
            ConnectorStateInfo info = connect.connectorStatus(name);
            return "RUNNING".equals(info.connector().state()) && info.tasks().size() == 1
                    && "RUNNING".equals(info.tasks().get(0).state());
        });
    }

    /** Waits for the single task to fail and returns its trace. */
    public static String awaitTaskFailure(EmbeddedConnectCluster connect, String name, Duration timeout) {
        Await.until(timeout, () -> "task of " + name + " to fail: " + describe(connect, name), () -> {
            ConnectorStateInfo info = connect.connectorStatus(name);
            return info.tasks().size() == 1 && "FAILED".equals(info.tasks().get(0).state());
        });
        return connect.connectorStatus(name).tasks().get(0).trace();
    }

    public static String describe(EmbeddedConnectCluster connect, String name) {
        try {
            ConnectorStateInfo info = connect.connectorStatus(name);
            StringBuilder out = new StringBuilder(info.connector().state());
            info.tasks().forEach(t -> out.append(" task ").append(t.id()).append('=').append(t.state()));
            return out.toString();
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }
}
