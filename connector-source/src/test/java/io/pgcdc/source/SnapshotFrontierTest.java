package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
        assertEquals("a.one", frontier.next().getKey());
        assertEquals("a.three", frontier.next().getKey());
        frontier.handedOver("a.one", "1:5");
        frontier.handedOver("a.three", "2:10");
        frontier.handedOver("a.one", "1:6");
        frontier.read("a.one", true);          // its last row (key 7) is held back
        assertEquals("a.two", frontier.next().getKey());
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
        frontier.remaining(TABLES);
        frontier.next();
        frontier.handedOver("a.one", "1:1");
        frontier.next();
        frontier.handedOver("a.three", "1:9");  // the row held back now belongs to a.three
        frontier.read("a.one", false);
        frontier.handedOver("a.three", "2:10");
        assertEquals(Map.of("a.three", "2:10"), frontier.progress(false).inFlight());
        assertEquals(expected("a.three", "2:10", "a.two", null, "b.four", null),
                new SnapshotFrontier(frontier.progress(false)).remaining(TABLES));
    }

    /**
     * Threads take tables in name order, but the one that took a.one may be descheduled before it reads a row while
     * the one that took a.three hands over rows: an offset stored then must still send a restart to a.one.
     */
    @Test
    void aTableTakenButNotYetReadIsNotSkippedByARestart() {
        SnapshotFrontier frontier = new SnapshotFrontier(null);
        frontier.remaining(TABLES);
        assertEquals("a.one", frontier.next().getKey());
        assertEquals("a.three", frontier.next().getKey());
        frontier.handedOver("a.three", "2:10");
        assertEquals(expected("a.one", null, "a.three", "2:10", "a.two", null, "b.four", null),
                new SnapshotFrontier(frontier.progress(false)).remaining(TABLES));
    }

    @Test
    void aResumedSnapshotTakesWhatRemainsWithItsKeys() {
        SnapshotFrontier frontier = new SnapshotFrontier(
                new SourceOffset.SnapshotProgress("a.three", Map.of("a.three", "2:10"), false));
        frontier.remaining(TABLES);
        assertEquals(Map.entry("a.three", "2:10"), frontier.next());
        Map.Entry<String, String> fromItsStart = frontier.next();
        assertEquals("a.two", fromItsStart.getKey());
        assertNull(fromItsStart.getValue());
        assertEquals("b.four", frontier.next().getKey());
        assertNull(frontier.next());
    }

    @Test
    void tablesHandedOffAreNotReadHereYetARestartOffersThemAgain() {
        SnapshotFrontier frontier = new SnapshotFrontier(
                new SourceOffset.SnapshotProgress("a.one", Map.of("a.one", "5"), false));
        frontier.remaining(TABLES);
        frontier.handOff(java.util.Set.of("a.one", "a.two"));
        assertEquals("a.three", frontier.next().getKey());
        frontier.handedOver("a.three", "1");
        assertEquals("b.four", frontier.next().getKey());
        assertNull(frontier.next());
        // Their progress rides on the same offsets (as chunks to read): here they count as read only once passed.
        assertEquals(expected("a.one", "5", "a.three", "1", "b.four", null),
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
