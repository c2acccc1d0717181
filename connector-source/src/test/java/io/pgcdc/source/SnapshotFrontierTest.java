package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SnapshotFrontierTest {

    private static final List<String> TABLES = List.of("a.one", "a.three", "a.two", "b.four");

    @Test
    void twoTablesAtOnceResumeWhereEachGotAndLaterOnesFromTheStart() {
        SnapshotFrontier frontier = new SnapshotFrontier(null);
        assertEquals(expected("a.one", null, "a.three", null, "a.two", null, "b.four", null), frontier.remaining(TABLES));
        frontier.started("a.one");
        frontier.started("a.three");
        frontier.handedOver("a.one", "1:5");
        frontier.handedOver("a.three", "2:10");
        frontier.handedOver("a.one", "1:6");
        frontier.read("a.one", true);          // its last row (key 7) is held back
        frontier.started("a.two");
        frontier.handedOver("a.one", "1:7");   // that row: a.one is done
        SourceOffset.SnapshotProgress progress = frontier.progress(false);
        assertEquals("a.two", progress.frontier());
        assertEquals(Map.of("a.three", "2:10", "a.two", ""), progress.inFlight());

        SnapshotFrontier resumed = new SnapshotFrontier(progress);
        assertEquals(expected("a.three", "2:10", "a.two", null, "b.four", null), resumed.remaining(TABLES));
    }

    @Test
    void aTableReadWithItsLastRowHandedOverIsDoneAtOnce() {
        SnapshotFrontier frontier = new SnapshotFrontier(null);
        frontier.started("a.one");
        frontier.handedOver("a.one", "1:1");
        frontier.started("a.three");
        frontier.handedOver("a.three", "1:9");  // the row held back now belongs to a.three
        frontier.read("a.one", false);
        frontier.handedOver("a.three", "2:10");
        assertEquals(Map.of("a.three", "2:10"), frontier.progress(false).inFlight());
        assertEquals(expected("a.three", "2:10", "a.two", null, "b.four", null),
                new SnapshotFrontier(frontier.progress(false)).remaining(TABLES));
    }

    private static Map<String, String> expected(String... tablesAndKeys) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < tablesAndKeys.length; i += 2) {
            map.put(tablesAndKeys[i], tablesAndKeys[i + 1]);
        }
        return map;
    }
}
