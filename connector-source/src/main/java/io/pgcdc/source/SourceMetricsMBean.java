package io.pgcdc.source;

/**
 * What a source task reports over JMX, as
 * {@code io.pgcdc:type=source-task-metrics,connector=<name>,task=<n>}. LSNs are numbers
 * (the text form {@code X/Y} is {@code X * 2^32 + Y}, hexadecimal halves).
 */
public interface SourceMetricsMBean {

    /** Identifies the task instance that registered this MBean. */
    String getInstance();

    /** The newest position received from the server. */
    long getLastReceivedLsn();

    /** The newest position this task confirmed to the server (Connect holds everything before it). */
    long getConfirmedLsn();

    /** The slot's confirmed_flush_lsn, as the server last reported it. */
    long getSlotConfirmedFlushLsn();

    /** WAL the server keeps for the slot (current WAL position minus the slot's restart_lsn). */
    long getSlotRetainedWalBytes();

    /**
     * Bytes the server wrote to disk while decoding this slot's transactions larger than logical_decoding_work_mem
     * (pg_stat_replication_slots.spill_bytes, PostgreSQL 14+; -1 before, or before the slot was first read).
     */
    long getSlotSpillBytes();

    /** Transactions the server spilled to disk while decoding this slot (spill_txns, PostgreSQL 14+; -1 before). */
    long getSlotSpillTransactions();

    /** WAL written on the server that this task has not received yet. */
    long getLagBytes();

    /** How far the last transaction handed over was behind its commit; 0 once the stream is caught up. */
    long getLagMillis();

    long getTransactionsEmitted();

    long getChangesEmitted();

    long getCreates();

    long getUpdates();

    long getDeletes();

    long getTruncates();

    /** The xid of the transaction being read; -1 between transactions. */
    long getTransactionInFlightXid();

    /** Changes read so far of the transaction being read. */
    long getTransactionInFlightChanges();

    /** The most changes one transaction had since the task started. */
    long getLargestTransactionChanges();

    /** Records waiting between the replication reader and Connect. */
    long getQueueRecords();

    long getQueueBytes();

    /** Replication connections re-established after a loss. */
    long getReconnects();

    /** Values sent as null because their column's Connect type cannot hold them (each one logged). */
    long getUnconvertibleValues();

    /** When the server's slot figures were last read (epoch ms; 0: not yet). */
    long getSlotCheckedTimestampMs();

    /** 1 while a snapshot reads tables, else 0. */
    long getSnapshotRunning();

    long getSnapshotTables();

    long getSnapshotTablesDone();

    /** Rows read by the snapshot since the task started. */
    long getSnapshotRowsDone();

    /** The table the snapshot reads now (null when none). */
    String getSnapshotTable();

    /** The planner's estimate of that table's rows (-1: unknown). */
    long getSnapshotTableRowsEstimated();
}
