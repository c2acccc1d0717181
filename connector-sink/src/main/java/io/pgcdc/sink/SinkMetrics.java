package io.pgcdc.sink;

import java.util.concurrent.atomic.LongAdder;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import org.apache.kafka.common.utils.Sanitizer;

/**
 * The counters of one sink task. The task thread counts what it receives and dead-letters, the writer thread
 * what batches wrote and retried; JMX reads them from other threads.
 */
final class SinkMetrics implements SinkMetricsMBean {

    private final LongAdder recordsReceived = new LongAdder();
    private final LongAdder rowsInserted = new LongAdder();
    private final LongAdder rowsUpdated = new LongAdder();
    private final LongAdder rowsSkippedStale = new LongAdder();
    private final LongAdder rowsDeleted = new LongAdder();
    private final LongAdder deletesSkipped = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder recordsSentToDlq = new LongAdder();

    // Guarded by this: an average's sum and count must be read as one.
    private long batches;
    private long batchRows;
    private long maxBatchRows;
    private long batchNanos;
    private long maxBatchNanos;

    private record Failure(String message, long timestampMs) { }

    // One reference, so that a reader never pairs a message with another one's time.
    private volatile Failure lastError;

    /** {@code io.pgcdc:type=sink-task-metrics,connector=<name, sanitised for JMX>,task=<index>} */
    static ObjectName objectName(String connector, int task) {
        try {
            return new ObjectName("io.pgcdc:type=sink-task-metrics,connector=" + Sanitizer.jmxSanitize(connector)
                    + ",task=" + task);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("No JMX name for connector " + connector + " task " + task, e);
        }
    }

    void received(int records) {
        recordsReceived.add(records);
    }

    /** A batch's transaction committed after {@code nanos} (all attempts); a batch that sent no rows is no batch. */
    void committed(WriteCounts counts, long nanos) {
        rowsInserted.add(counts.inserted());
        rowsUpdated.add(counts.updated());
        rowsSkippedStale.add(counts.skippedStale());
        rowsDeleted.add(counts.deleted());
        deletesSkipped.add(counts.deletesSkipped());
        long rows = counts.rows();
        if (rows == 0) {
            return;
        }
        synchronized (this) {
            batches++;
            batchRows += rows;
            maxBatchRows = Math.max(maxBatchRows, rows);
            batchNanos += nanos;
            maxBatchNanos = Math.max(maxBatchNanos, nanos);
        }
    }

    void retried() {
        retries.increment();
    }

    void sentToDlq(String reason) {
        recordsSentToDlq.increment();
        failed(reason);
    }

    void failed(String reason) {
        lastError = new Failure(reason, System.currentTimeMillis());
    }

    @Override
    public long getRecordsReceived() {
        return recordsReceived.sum();
    }

    @Override
    public long getRowsInserted() {
        return rowsInserted.sum();
    }

    @Override
    public long getRowsUpdated() {
        return rowsUpdated.sum();
    }

    @Override
    public long getRowsSkippedStale() {
        return rowsSkippedStale.sum();
    }

    @Override
    public long getRowsDeleted() {
        return rowsDeleted.sum();
    }

    @Override
    public long getDeletesSkipped() {
        return deletesSkipped.sum();
    }

    @Override
    public synchronized long getBatches() {
        return batches;
    }

    @Override
    public synchronized double getRowsPerBatchAvg() {
        return batches == 0 ? 0 : (double) batchRows / batches;
    }

    @Override
    public synchronized long getRowsPerBatchMax() {
        return maxBatchRows;
    }

    @Override
    public synchronized double getBatchLatencyAvgMs() {
        return batches == 0 ? 0 : batchNanos / 1e6 / batches;
    }

    @Override
    public synchronized double getBatchLatencyMaxMs() {
        return maxBatchNanos / 1e6;
    }

    @Override
    public long getRetries() {
        return retries.sum();
    }

    @Override
    public long getRecordsSentToDlq() {
        return recordsSentToDlq.sum();
    }

    @Override
    public String getLastError() {
        Failure failure = lastError;
        return failure == null ? null : failure.message();
    }

    @Override
    public long getLastErrorTimestampMs() {
        Failure failure = lastError;
        return failure == null ? 0 : failure.timestampMs();
    }
}
