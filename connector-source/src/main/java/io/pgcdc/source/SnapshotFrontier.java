package io.pgcdc.source;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;

import io.pgcdc.source.SourceOffset.SnapshotProgress;

/**
 * What an initial snapshot has handed over, as its offsets record it: tables are started in name
 * order, possibly several at once, so the offset names the last table started and, for each table
 * started but not wholly handed over, the key of its last row handed over. Not thread-safe: the
 * snapshot's workers use it under one lock.
 */
final class SnapshotFrontier {

    private String frontier;
    private final Map<String, String> inFlight = new TreeMap<>();
    /** Tables read to the end whose last row is still held back. */
    private final Set<String> lastRowHeld = new HashSet<>();
    private Queue<Map.Entry<String, String>> queue = new ArrayDeque<>();

    SnapshotFrontier(SnapshotProgress resumed) {
        if (resumed != null) {
            frontier = resumed.frontier();
            inFlight.putAll(resumed.inFlight());
        }
    }

    /**
     * The tables still to read, in name order, each with the key to continue after (null: from its first row); they
     * are then taken one at a time by {@link #next()}.
     */
    Map<String, String> remaining(List<String> tables) {
        Map<String, String> remaining = new LinkedHashMap<>();
        for (String table : tables) {
            if (frontier == null || table.compareTo(frontier) > 0) {
                remaining.put(table, null);
            } else if (inFlight.containsKey(table)) {
                String key = inFlight.get(table);
                remaining.put(table, key.isEmpty() ? null : key);
            }
        }
        queue = new ArrayDeque<>(remaining.entrySet());
        return remaining;
    }

    /**
     * Leaves {@code tables} to be read elsewhere: in chunks while streaming, whose progress every later offset
     * carries. Here they keep the state they had, so a restart offers them again (and they are queued again
     * unless queued still) until the frontier passes them.
     */
    void handOff(Set<String> tables) {
        queue.removeIf(entry -> tables.contains(entry.getKey()));
    }

    /**
     * The next table to read, with the key to continue after, or null when none is left. It is started at once: a
     * table taken but not yet started would be behind a later table another thread started, and an offset stored
     * then would count it as read.
     */
    Map.Entry<String, String> next() {
        Map.Entry<String, String> next = queue.poll();
        if (next != null) {
            started(next.getKey());
        }
        return next;
    }

    private void started(String table) {
        if (frontier == null || table.compareTo(frontier) > 0) {
            frontier = table;
        }
        inFlight.putIfAbsent(table, "");
    }

    /** A row of {@code table} was handed over ({@code key} null for a table without a key). */
    void handedOver(String table, String key) {
        if (lastRowHeld.remove(table)) {
            inFlight.remove(table);
        } else {
            inFlight.put(table, key == null ? "" : key);
        }
    }

    /** Every row of {@code table} was read; {@code held} when its last row is not handed over yet. */
    void read(String table, boolean held) {
        if (held) {
            lastRowHeld.add(table);
        } else {
            inFlight.remove(table);
        }
    }

    SnapshotProgress progress(boolean done) {
        return new SnapshotProgress(frontier, inFlight, done);
    }
}
