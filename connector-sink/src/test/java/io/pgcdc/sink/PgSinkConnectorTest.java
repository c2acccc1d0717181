package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class PgSinkConnectorTest {

    @Test
    void eachTaskGetsTheConfigAndItsOwnIndex() {
        Map<String, String> props = Map.of("name", "olap", "connection.url", "jdbc:postgresql://localhost/olap",
                "topics", "t");
        PgSinkConnector connector = new PgSinkConnector();
        connector.start(props);
        List<Map<String, String>> tasks = connector.taskConfigs(3);
        assertEquals(3, tasks.size());
        for (int i = 0; i < 3; i++) {
            Map<String, String> expected = new HashMap<>(props);
            expected.put("task.index", Integer.toString(i));
            assertEquals(expected, tasks.get(i));
            new SinkConfig(tasks.get(i)); // the internal key is accepted
        }
        assertFalse(connector.config().names().contains("task.index"), "internal, not a documented setting");
    }
}
