package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Proxy;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.connect.sink.SinkTaskContext;
import org.junit.jupiter.api.Test;

/** The task's MBean lives exactly as long as the task: no database needed, start() does not connect. */
class PgSinkTaskTest {

    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();
    private static final Map<String, String> PROPS = Map.of("name", "orders sink:eu", "task.index", "2",
            "connection.url", "jdbc:postgresql://localhost:1/olap", "topics", "t");

    private static ObjectName name() throws Exception {
        return new ObjectName("io.pgcdc:type=sink-task-metrics,connector=\"orders sink:eu\",task=2");
    }

    /** A context whose every method answers null, or throws {@code failure} if one is given. */
    private static SinkTaskContext context(RuntimeException failure) {
        return (SinkTaskContext) Proxy.newProxyInstance(PgSinkTaskTest.class.getClassLoader(),
                new Class<?>[] {SinkTaskContext.class}, (proxy, method, args) -> {
                    if (failure != null) {
                        throw failure;
                    }
                    return null;
                });
    }

    private static PgSinkTask task(RuntimeException contextFailure) {
        PgSinkTask task = new PgSinkTask();
        task.initialize(context(contextFailure));
        return task;
    }

    @Test
    void theMBeanIsThereWhileTheTaskRuns() throws Exception {
        PgSinkTask task = task(null);
        task.start(PROPS);
        try {
            assertEquals(0L, SERVER.getAttribute(name(), "RecordsReceived"));
        } finally {
            task.stop();
        }
        assertFalse(SERVER.isRegistered(name()));
    }

    @Test
    void aNewInstanceReplacesAStaleOneWhichThenLeavesItAlone() throws Exception {
        PgSinkTask abandoned = task(null);
        abandoned.start(PROPS);
        PgSinkTask restarted = task(null);
        restarted.start(PROPS);
        abandoned.stop(); // late, after its successor registered
        assertTrue(SERVER.isRegistered(name()));
        restarted.stop();
        assertFalse(SERVER.isRegistered(name()));
    }

    @Test
    void stopAfterAFailedStartUnregisters() throws Exception {
        PgSinkTask task = task(new IllegalStateException("no context"));
        assertThrows(IllegalStateException.class, () -> task.start(PROPS));
        assertTrue(SERVER.isRegistered(name()), "start() failed after registering");
        task.stop();
        assertFalse(SERVER.isRegistered(name()));
    }
}
