package io.pgcdc.sink;

/**
 * What statements did to the rows they were sent. Summed per attempt at a batch and published to
 * the metrics only when that attempt commits, so a rolled-back attempt counts nothing.
 */
final class WriteCounts {

    private long inserted;
    private long updated;
    private long skippedStale;
    private long deleted;
    private long deletesSkipped;

    /** An upsert sent {@code sent} rows and wrote {@code written} of them, {@code inserted} as new rows. */
    static WriteCounts upsert(int sent, long inserted, long written) {
        WriteCounts counts = new WriteCounts();
        counts.inserted = inserted;
        counts.updated = written - inserted;
        counts.skippedStale = sent - written;
        return counts;
    }

    /** A delete (or soft delete) sent {@code sent} keys and removed (or flagged) {@code removed} rows. */
    static WriteCounts delete(int sent, long removed) {
        WriteCounts counts = new WriteCounts();
        counts.deleted = removed;
        counts.deletesSkipped = sent - removed;
        return counts;
    }

    void add(WriteCounts other) {
        inserted += other.inserted;
        updated += other.updated;
        skippedStale += other.skippedStale;
        deleted += other.deleted;
        deletesSkipped += other.deletesSkipped;
    }

    /** Rows sent to the database, whatever became of them. */
    long rows() {
        return inserted + updated + skippedStale + deleted + deletesSkipped;
    }

    long inserted() {
        return inserted;
    }

    long updated() {
        return updated;
    }

    long skippedStale() {
        return skippedStale;
    }

    long deleted() {
        return deleted;
    }

    long deletesSkipped() {
        return deletesSkipped;
    }
}
