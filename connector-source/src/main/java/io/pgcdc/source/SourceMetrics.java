package io.pgcdc.source;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.LongAdder;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.common.utils.Sanitizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A source task's figures: written by the replication reader thread, read by JMX clients.
 * Single-writer fields are volatile; counters are adders.
 */
public final class SourceMetrics implements SourceMetricsMBean {

    private static final Logger log = LoggerFactory.getLogger(SourceMetrics.class);

    /** What the server says about the slot. */
    /** @param spillBytes and {@code spillTransactions}: -1 when the server (before 14) keeps no such statistics */
    public record SlotState(long confirmedFlushLsn, long retainedWalBytes, long currentWalLsn, long spillBytes,
            long spillTransactions) { }

    private volatile long lastReceivedLsn;
    private volatile long confirmedLsn;
    private volatile SlotState slot;
    private volatile long slotCheckedMs;
    private volatile long lagMillis;
    private final LongAdder transactions = new LongAdder();
    private final LongAdder creates = new LongAdder();
    private final LongAdder updates = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final LongAdder truncates = new LongAdder();
    private final LongAdder reconnects = new LongAdder();
    private final LongAdder unconvertibleValues = new LongAdder();
    private volatile long inFlightXid = -1;
    private volatile long inFlightChanges;
    private volatile long largestTransaction;
    private volatile RecordQueue queue;
    private volatile long snapshotRunning;
    private volatile long snapshotTablesTotal;
    private volatile long snapshotTablesDone;
    private final LongAdder snapshotRows = new LongAdder();
    private volatile String snapshotTable;
    private volatile long snapshotTableEstimate = -1;
    private ObjectName name;
    private final String instance = java.util.UUID.randomUUID().toString();

    /** Registers this task's MBean, replacing one a previous run of the task left behind. */
    public void register(String connector, int task) {
        try {
            ObjectName objectName = new ObjectName("io.pgcdc:type=source-task-metrics,connector="
                    + Sanitizer.jmxSanitize(connector) + ",task=" + task);
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (server.isRegistered(objectName)) {
                server.unregisterMBean(objectName);
            }
            server.registerMBean(this, objectName);
            name = objectName;
        } catch (JMException e) {
            // Metrics are for watching; a task that cannot publish them still works.
            log.warn("Cannot register the metrics MBean of connector {} task {}: {}", connector, task, e.getMessage());
        }
    }

    /**
     * Removes this task's MBean, unless a newer instance of the task replaced it meanwhile (Connect
     * starts a new instance when an old one does not stop in time; the old one stops later).
     */
    public void unregister() {
        if (name == null) {
            return;
        }
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (instance.equals(server.getAttribute(name, "Instance"))) {
                server.unregisterMBean(name);
            }
        } catch (JMException e) {
            log.debug("Metrics MBean {} already gone: {}", name, e.getMessage());
        }
        name = null;
    }

    void queue(RecordQueue queue) {
        this.queue = queue;
    }

    void received(long lsn) {
        lastReceivedLsn = lsn;
    }

    void confirmed(long lsn) {
        confirmedLsn = lsn;
    }

    void reconnected() {
        reconnects.increment();
    }

    void unconvertibleValues(int count) {
        unconvertibleValues.add(count);
    }

    void slot(SlotState state, long nowMs) {
        slot = state;
        slotCheckedMs = nowMs;
    }

    void begin(long xid) {
        inFlightXid = xid;
        inFlightChanges = 0;
    }

    void changeRead(long changesSoFar) {
        inFlightChanges = changesSoFar;
    }

    void emitted(String op) {
        switch (op) {
            case "c" -> creates.increment();
            case "u" -> updates.increment();
            case "d" -> deletes.increment();
            default -> truncates.increment();
        }
    }

    /** A transaction ended; {@code emitted} whether any record of it was handed over. */
    void committed(long changes, boolean emitted, long commitEpochMicros, long nowMs) {
        inFlightXid = -1;
        inFlightChanges = 0;
        if (changes > largestTransaction) {
            largestTransaction = changes;
        }
        if (emitted) {
            transactions.increment();
            lagMillis = Math.max(0, nowMs - commitEpochMicros / 1000);
        }
    }

    void snapshotStarted(int tables, int alreadyDone) {
        snapshotRunning = 1;
        snapshotTablesTotal = tables;
        snapshotTablesDone = alreadyDone;
    }

    void snapshotTable(String table, long estimatedRows) {
        snapshotTable = table;
        snapshotTableEstimate = estimatedRows;
    }

    void snapshotRow() {
        snapshotRows.increment();
    }

    void snapshotTableDone() {
        snapshotTablesDone++;
    }

    void snapshotFinished() {
        snapshotRunning = 0;
        snapshotTable = null;
        snapshotTableEstimate = -1;
    }

    void caughtUp() {
        lagMillis = 0;
    }

    @Override
    public String getInstance() {
        return instance;
    }

    @Override
    public long getLastReceivedLsn() {
        return lastReceivedLsn;
    }

    @Override
    public long getConfirmedLsn() {
        return confirmedLsn;
    }

    @Override
    public long getSlotConfirmedFlushLsn() {
        SlotState s = slot;
        return s == null ? 0 : s.confirmedFlushLsn();
    }

    @Override
    public long getSlotRetainedWalBytes() {
        SlotState s = slot;
        return s == null ? 0 : s.retainedWalBytes();
    }

    @Override
    public long getSlotSpillBytes() {
        SlotState s = slot;
        return s == null ? -1 : s.spillBytes();
    }

    @Override
    public long getSlotSpillTransactions() {
        SlotState s = slot;
        return s == null ? -1 : s.spillTransactions();
    }

    @Override
    public long getLagBytes() {
        SlotState s = slot;
        return s == null ? 0 : Math.max(0, s.currentWalLsn() - lastReceivedLsn);
    }

    @Override
    public long getLagMillis() {
        return lagMillis;
    }

    @Override
    public long getTransactionsEmitted() {
        return transactions.sum();
    }

    @Override
    public long getChangesEmitted() {
        return creates.sum() + updates.sum() + deletes.sum() + truncates.sum();
    }

    @Override
    public long getCreates() {
        return creates.sum();
    }

    @Override
    public long getUpdates() {
        return updates.sum();
    }

    @Override
    public long getDeletes() {
        return deletes.sum();
    }

    @Override
    public long getTruncates() {
        return truncates.sum();
    }

    @Override
    public long getTransactionInFlightXid() {
        return inFlightXid;
    }

    @Override
    public long getTransactionInFlightChanges() {
        return inFlightChanges;
    }

    @Override
    public long getLargestTransactionChanges() {
        return largestTransaction;
    }

    @Override
    public long getQueueRecords() {
        RecordQueue q = queue;
        return q == null ? 0 : q.size();
    }

    @Override
    public long getQueueBytes() {
        RecordQueue q = queue;
        return q == null ? 0 : q.bytes();
    }

    @Override
    public long getReconnects() {
        return reconnects.sum();
    }

    @Override
    public long getUnconvertibleValues() {
        return unconvertibleValues.sum();
    }

    @Override
    public long getSlotCheckedTimestampMs() {
        return slotCheckedMs;
    }

    @Override
    public long getSnapshotRunning() {
        return snapshotRunning;
    }

    @Override
    public long getSnapshotTables() {
        return snapshotTablesTotal;
    }

    @Override
    public long getSnapshotTablesDone() {
        return snapshotTablesDone;
    }

    @Override
    public long getSnapshotRowsDone() {
        return snapshotRows.sum();
    }

    @Override
    public String getSnapshotTable() {
        return snapshotTable;
    }

    @Override
    public long getSnapshotTableRowsEstimated() {
        return snapshotTableEstimate;
    }
}
