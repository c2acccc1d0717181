package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SnapshotVisibilityTest {

    @Test
    void seesTransactionsBeforeXminAndFinishedOnesBeforeXmax() {
        SnapshotVisibility v = SnapshotVisibility.parse("100:105:101,103");
        assertTrue(v.sees(99));
        assertTrue(v.sees(100), "xmin itself was not running: it is not in the list");
        assertFalse(v.sees(101), "in progress when the snapshot was taken");
        assertTrue(v.sees(102));
        assertFalse(v.sees(103));
        assertTrue(v.sees(104));
        assertFalse(v.sees(105), "xmax and later had not finished");
        assertFalse(v.sees(5000));
    }

    @Test
    void comparesThe32BitIdsPgoutputSendsAcrossEpochsAndWraparound() {
        long epoch = 1L << 32;
        SnapshotVisibility v = SnapshotVisibility.parse((epoch + 4_294_967_290L) + ":" + (2 * epoch + 10) + ":" + (2 * epoch + 3));
        assertTrue(v.sees(4_294_967_280L), "just before xmin, in the old epoch");
        assertTrue(v.sees(2), "after the wraparound, before xmax");
        assertFalse(v.sees(3), "in progress");
        assertFalse(v.sees(10));
    }

    @Test
    void emptyInProgressListAndMalformedText() {
        assertTrue(SnapshotVisibility.parse("7:7:").sees(6));
        assertFalse(SnapshotVisibility.parse("7:7:").sees(7));
        assertThrows(IllegalArgumentException.class, () -> SnapshotVisibility.parse("7:7"));
    }
}
