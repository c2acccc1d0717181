package io.pgcdc.source;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.kafka.connect.source.SourceRecord;

/**
 * The hand-over between the replication reader and {@code poll()}, bounded in records and
 * in bytes. A producer blocked on a full queue wakes up regularly to run a callback (the
 * reader sends the server a status update, so the walsender does not time out).
 */
public final class RecordQueue {

    private final int maxRecords;
    private final long maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<SourceRecord> records = new ArrayDeque<>();
    private final ArrayDeque<Long> sizes = new ArrayDeque<>();
    private long bytes;

    public RecordQueue(int maxRecords, long maxBytes) {
        this.maxRecords = maxRecords;
        this.maxBytes = maxBytes;
    }

    /** Something to do every {@code intervalMs} while blocked. */
    @FunctionalInterface
    public interface WhileBlocked {
        void run() throws Exception;
    }

    public void put(SourceRecord record, long size, long intervalMs, WhileBlocked whileBlocked) throws Exception {
        lock.lockInterruptibly();
        try {
            // A record larger than the byte bound still passes alone, or it could never pass.
            long interval = TimeUnit.MILLISECONDS.toNanos(intervalMs);
            long nextStatus = System.nanoTime() + interval;
            while (records.size() >= maxRecords || (!records.isEmpty() && bytes + size > maxBytes)) {
                long wait = nextStatus - System.nanoTime();
                if (wait > 0) {
                    notFull.awaitNanos(wait);
                    continue;
                }
                lock.unlock();
                try {
                    whileBlocked.run();
                } finally {
                    lock.lock();
                }
                nextStatus = System.nanoTime() + interval;
            }
            records.addLast(record);
            sizes.addLast(size);
            bytes += size;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Up to {@code max} records, waiting at most {@code timeoutMs} for the first; empty if none came. */
    public List<SourceRecord> drain(int max, long timeoutMs) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (records.isEmpty()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return List.of();
                }
                notEmpty.awaitNanos(remaining);
            }
            int n = Math.min(max, records.size());
            List<SourceRecord> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(records.pollFirst());
                bytes -= sizes.pollFirst();
            }
            notFull.signalAll();
            return out;
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return records.size();
        } finally {
            lock.unlock();
        }
    }

    public long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }
}
