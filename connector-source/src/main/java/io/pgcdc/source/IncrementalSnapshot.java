package io.pgcdc.source;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pgcdc.source.SourceOffset.IncrementalProgress;

/**
 * A snapshot read while streaming (signalled, or the rest of an initial snapshot that lost the slot's exported
 * snapshot), chunk by chunk in key order (DBLog's watermark
 * algorithm, with the chunk's own snapshot as the low watermark):
 * <ol>
 * <li>between transactions, a chunk is read in one transaction that also records which
 *     transactions its snapshot sees, then a watermark message is written to the WAL;</li>
 * <li>until the stream reaches that watermark, a change to a chunk row by a transaction the
 *     chunk's snapshot does not see removes the row: the change, emitted already, is newer;</li>
 * <li>at the watermark the rows left are emitted: every transaction the chunk saw committed
 *     before it, so each row is at least as new as any change emitted before it for its key.</li>
 * </ol>
 * A transaction streamed before the chunk was read may still be invisible to the chunk's snapshot
 * (its commit is in the WAL before it is visible, for instance while it waits for a synchronous
 * standby); such a chunk is read again rather than trusted. Progress rides on every offset.
 * Used by the reader thread only.
 */
final class IncrementalSnapshot {

    /** Transactions streamed recently, to find those a chunk's snapshot does not see yet. */
    private static final int RECENT_TRANSACTIONS = 4096;

    /** Rows read in one chunk, by key text, in key order; {@code last} when the table has no rows after them. */
    record Chunk(SnapshotTable table, String watermark, SnapshotVisibility visibility, LinkedHashMap<String, String[]> rows,
                 String lastKey, boolean last) { }

    private final Deque<String> tables = new ArrayDeque<>();
    private String lastKey;
    /** Queued tables after the first that an initial snapshot had read part of: the key each continues after. */
    private final Map<String, String> startKeys = new HashMap<>();
    private IncrementalProgress progress;
    private Chunk chunk;
    private final long[] recent = new long[RECENT_TRANSACTIONS];
    private int recentCount;

    IncrementalSnapshot(IncrementalProgress resumed) {
        if (resumed != null) {
            tables.addAll(resumed.tables());
            lastKey = resumed.lastKey();
            startKeys.putAll(resumed.startKeys());
        }
    }

    /** What every offset carries while a snapshot is under way; null when none is. */
    IncrementalProgress progress() {
        // Every emitted record asks: built again only when the progress moved, not per record.
        if (progress == null && !tables.isEmpty()) {
            progress = new IncrementalProgress(new ArrayList<>(tables), lastKey, startKeys);
        }
        return progress;
    }

    /** Queues the tables not queued yet; returns those added. */
    List<String> request(List<String> requested) {
        List<String> added = new ArrayList<>();
        for (String table : requested) {
            if (!tables.contains(table)) {
                tables.addLast(table);
                progress = null;
                added.add(table);
            }
        }
        return added;
    }

    /**
     * Queues what an initial snapshot had left to read, each table with the key to continue after (null: from its
     * first row), unless already queued; returns the tables added.
     */
    List<String> resume(Map<String, String> remaining) {
        List<String> added = new ArrayList<>();
        remaining.forEach((table, key) -> {
            if (tables.contains(table)) {
                return;
            }
            if (key != null) {
                if (tables.isEmpty()) {
                    lastKey = key;
                } else {
                    startKeys.put(table, key);
                }
            }
            tables.addLast(table);
            added.add(table);
        });
        progress = null;
        return added;
    }

    int tablesLeft() {
        return tables.size();
    }

    boolean wantsChunk() {
        return chunk == null && !tables.isEmpty();
    }

    /** The table the next chunk comes from. */
    String table() {
        return tables.peekFirst();
    }

    /** The key the next chunk starts after; null for the table's first chunk. */
    String lastKey() {
        return lastKey;
    }

    /** The current table cannot be read: go on with the next. */
    void skipTable() {
        nextTable();
    }

    private void nextTable() {
        tables.pollFirst();
        lastKey = tables.isEmpty() ? null : startKeys.remove(tables.peekFirst());
        progress = null;
    }

    /** A transaction begins in the stream. */
    void began(long xid) {
        recent[recentCount++ % RECENT_TRANSACTIONS] = xid;
    }

    /**
     * Takes a chunk just read, unless a transaction already streamed is invisible to its snapshot:
     * its changes are not in the rows, yet were emitted before them. Returns whether it was taken.
     */
    boolean chunkRead(Chunk read) {
        int count = Math.min(recentCount, RECENT_TRANSACTIONS);
        for (int i = 0; i < count; i++) {
            if (!read.visibility().sees(recent[i])) {
                return false;
            }
        }
        chunk = read;
        return true;
    }

    /** Whether changes to {@code schema.table} matter to the chunk waiting for its watermark. */
    boolean tracks(String schema, String table) {
        return chunk != null && chunk.table().schema().schemaName().equals(schema)
                && chunk.table().schema().tableName().equals(table);
    }

    /** A change to the row with {@code key} of the tracked table, by transaction {@code xid}, was emitted. */
    void changed(String key, long xid) {
        if (!chunk.visibility().sees(xid)) {
            chunk.rows().remove(key);
        }
    }

    /** The tracked table was truncated by {@code xid}. */
    void truncated(long xid) {
        if (!chunk.visibility().sees(xid)) {
            chunk.rows().clear();
        }
    }

    /** The chunk whose watermark this is, to be emitted now; null for any other watermark. */
    Chunk watermark(String id) {
        Chunk reached = chunk;
        if (reached == null || !reached.watermark().equals(id)) {
            return null;
        }
        chunk = null;
        return reached;
    }

    /** The progress of a chunk's row emitted before its last: the next chunk would start after it. */
    IncrementalProgress progressAt(String key) {
        return new IncrementalProgress(new ArrayList<>(tables), key, startKeys);
    }

    /** All rows of {@code emitted} are handed over: the next chunk starts after it, or at the next table. */
    void chunkEmitted(Chunk emitted) {
        if (emitted.last()) {
            nextTable();
        } else {
            lastKey = emitted.lastKey();
            progress = null;
        }
    }

    /** After a lost connection the stream is replayed: a chunk waiting for its watermark is read again. */
    void reset() {
        chunk = null;
    }
}
