package io.pgcdc.source;

/**
 * Where a record stands in the change stream: its transaction's commit LSN (commit order
 * is the only global order), the ordinal of the pgoutput change message inside that
 * transaction, and the record's part of that message (a primary key update gives a delete
 * and a create, a delete its tombstone, a truncate one record per table). The same stream
 * always yields the same positions, so a resumed task can skip exactly what was emitted.
 */
public record ChangePosition(long commitLsn, int change, int part) implements Comparable<ChangePosition> {

    public static final int BEGIN = -1;
    public static final int END = Integer.MAX_VALUE;

    @Override
    public int compareTo(ChangePosition other) {
        int c = Long.compareUnsigned(commitLsn, other.commitLsn);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(change, other.change);
        return c != 0 ? c : Integer.compare(part, other.part);
    }
}
