package io.pgcdc.source;

import java.util.HashSet;
import java.util.Set;

/**
 * Which transactions a snapshot sees, from {@code pg_current_snapshot()}: those before xmin, and
 * those before xmax not in progress when it was taken. Compared on the 32-bit transaction ids
 * pgoutput sends, modulo 2^32 as PostgreSQL compares them.
 */
record SnapshotVisibility(int xmin, int xmax, Set<Integer> inProgress) {

    /** Parses the text form {@code xmin:xmax:xip,xip,...} of a {@code pg_snapshot}. */
    static SnapshotVisibility parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("Not a pg_snapshot: " + text);
        }
        Set<Integer> inProgress = new HashSet<>();
        if (!parts[2].isEmpty()) {
            for (String xid : parts[2].split(",")) {
                inProgress.add((int) Long.parseLong(xid));
            }
        }
        return new SnapshotVisibility((int) Long.parseLong(parts[0]), (int) Long.parseLong(parts[1]), inProgress);
    }

    /** Whether the snapshot shows the changes of {@code xid}, a transaction that committed. */
    boolean sees(long xid) {
        int x = (int) xid;
        if (x - xmin < 0) {
            return true;
        }
        return x - xmax < 0 && !inProgress.contains(x);
    }
}
