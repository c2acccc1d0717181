package io.pgcdc.sink;

/**
 * What a sink task exposes over JMX, one MBean per task. Numbers only (and the last error's text),
 * so that a Prometheus JMX exporter can scrape every attribute.
 */
public interface SinkMetricsMBean {

    /** Records Connect handed to put(), tombstones included. */
    long getRecordsReceived();

    long getRowsInserted();

    long getRowsUpdated();

    /** Upserts the guard refused because the stored row is as new or newer. */
    long getRowsSkippedStale();

    /** Rows hard-deleted, or flagged by a soft delete. */
    long getRowsDeleted();

    /** Deletes that matched no row, or whose row was written after the delete committed. */
    long getDeletesSkipped();

    /** put() calls whose transaction wrote at least one row. */
    long getBatches();

    double getRowsPerBatchAvg();

    long getRowsPerBatchMax();

    /** Wall time from the first attempt at a batch to its commit, retries and backoff included. */
    double getBatchLatencyAvgMs();

    double getBatchLatencyMaxMs();

    /** Batches rolled back after a transient error (lost connection, deadlock) and tried again. */
    long getRetries();

    long getRecordsSentToDlq();

    /** The reason of the most recent record sent to the dead letter queue or failure of the task; null if none. */
    String getLastError();

    /** When {@link #getLastError} happened, in ms since the epoch; 0 if never. */
    long getLastErrorTimestampMs();
}
