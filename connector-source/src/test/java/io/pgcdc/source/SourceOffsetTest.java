package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SourceOffsetTest {

    @Test
    void roundTripsThroughAMapAsConnectStoresIt() {
        SourceOffset offset = new SourceOffset(new ChangePosition(0x1_0000_0000L, 7, 1), false, 500);
        Map<String, Object> stored = new HashMap<>(offset.toMap());
        stored.put(SourceOffset.CHANGE, 7L); // JSON converters hand integers back as longs
        assertEquals(offset, SourceOffset.fromMap(stored));
        assertNull(SourceOffset.fromMap(null));
    }

    @Test
    void malformedOffsetIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SourceOffset.fromMap(Map.of("lsn", "0/1")));
        assertTrue(e.getMessage().contains("not one this connector wrote"), e.getMessage());
    }

    @Test
    void incompleteOffsetCoversOnlyWhatCameBefore() {
        SourceOffset offset = new SourceOffset(new ChangePosition(100, 5, 0), false, 50);
        assertTrue(offset.covers(new ChangePosition(90, 1000, 0)), "an earlier transaction");
        assertTrue(offset.covers(new ChangePosition(100, ChangePosition.BEGIN, 0)));
        assertTrue(offset.covers(new ChangePosition(100, 5, 0)));
        assertFalse(offset.covers(new ChangePosition(100, 5, 1)), "the tombstone after the stored delete");
        assertFalse(offset.covers(new ChangePosition(100, 6, 0)));
        assertFalse(offset.covers(new ChangePosition(100, ChangePosition.END, 0)));
        assertFalse(offset.covers(new ChangePosition(101, ChangePosition.BEGIN, 0)));
    }

    @Test
    void completeOffsetCoversItsWholeTransaction() {
        SourceOffset offset = new SourceOffset(new ChangePosition(100, 5, 0), true, 120);
        assertTrue(offset.covers(new ChangePosition(100, ChangePosition.END, 0)));
        assertFalse(offset.covers(new ChangePosition(101, 0, 0)));
    }

    @Test
    void flushTargetIsTheStoredOffsetsSafePosition() {
        SourceOffset closing = new SourceOffset(new ChangePosition(100, 5, 0), true, 120);
        SourceOffset middle = new SourceOffset(new ChangePosition(200, 1, 0), false, 120);
        assertEquals(0, FlushTarget.of(null, null));
        assertEquals(120, FlushTarget.of(closing, null));
        assertEquals(120, FlushTarget.of(middle, null), "mid-transaction: the previous transaction's end");
    }

    @Test
    void quietPositionCountsOnlyWhenNothingEmittedSinceIsInFlight() {
        SourceOffset stored = new SourceOffset(new ChangePosition(100, 5, 0), true, 120);
        SourceOffset later = new SourceOffset(new ChangePosition(300, 0, 0), true, 320);
        assertEquals(900, FlushTarget.of(stored, new ChangeEventEmitter.QuietPoint(900, stored)));
        assertEquals(120, FlushTarget.of(stored, new ChangeEventEmitter.QuietPoint(900, later)),
                "a record emitted after the stored one is not stored yet");
        assertEquals(900, FlushTarget.of(null, new ChangeEventEmitter.QuietPoint(900, null)),
                "nothing ever emitted");
    }

    @Test
    void partitionKeysHaveOneOrderInEveryJvm() {
        // Connect looks offsets up by the partition's serialized bytes; another worker must produce the same.
        assertEquals(java.util.List.of("database", "slot"),
                new java.util.ArrayList<>(SourceOffset.partition("db", "slot").keySet()));
    }

    @Test
    void snapshotProgressRoundTripsAndCoversNoStreamPosition() {
        SourceOffset snapshot = new SourceOffset(new ChangePosition(500, 0, 0), true, 0,
                new SourceOffset.SnapshotProgress("public.u", Map.of("public.t", KeyText.encode(java.util.List.of("7", "a:b")),
                        "public.u", ""), false));
        SourceOffset read = SourceOffset.fromMap(snapshot.toMap());
        assertEquals(snapshot, read);
        assertTrue(read.snapshotUnfinished());
        assertEquals(java.util.List.of("7", "a:b"), KeyText.decode(read.snapshot().inFlight().get("public.t")));
        assertFalse(read.covers(new ChangePosition(400, 0, 0)), "streaming starts after a snapshot row");
        assertEquals(java.util.List.of("", "12:34"), KeyText.decode(KeyText.encode(java.util.List.of("", "12:34"))));
    }

    @Test
    void signalledSnapshotProgressRoundTripsWithTheStreamPosition() {
        SourceOffset offset = new SourceOffset(new ChangePosition(900, 3, 0), false, 800, null,
                new SourceOffset.IncrementalProgress(java.util.List.of("public.a", "s.b.c"), KeyText.encode(java.util.List.of("42"))));
        SourceOffset read = SourceOffset.fromMap(offset.toMap());
        assertEquals(offset, read);
        assertTrue(read.covers(new ChangePosition(900, 3, 0)), "a streamed position, unlike an initial snapshot row");
        SourceOffset firstChunk = new SourceOffset(new ChangePosition(900, 0, 0), true, 800, null,
                new SourceOffset.IncrementalProgress(java.util.List.of("public.a"), null));
        assertEquals(firstChunk, SourceOffset.fromMap(firstChunk.toMap()));
    }
}
