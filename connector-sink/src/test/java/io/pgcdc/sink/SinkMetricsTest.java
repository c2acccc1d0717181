package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

class SinkMetricsTest {

    private static WriteCounts plus(WriteCounts a, WriteCounts b) {
        a.add(b);
        return a;
    }

    @Test
    void committedBatchesAddTheirRowsAndTimes() {
        SinkMetrics metrics = new SinkMetrics();
        metrics.received(30);
        // 10 upserts: 3 inserted, 4 updated, 3 refused by the guard; then 4 deletes of which 1 removed a row.
        metrics.committed(plus(WriteCounts.upsert(10, 3, 7), WriteCounts.delete(4, 1)), 2_000_000);
        metrics.committed(WriteCounts.upsert(2, 2, 2), 5_000_000);
        assertEquals(30, metrics.getRecordsReceived());
        assertEquals(5, metrics.getRowsInserted());
        assertEquals(4, metrics.getRowsUpdated());
        assertEquals(3, metrics.getRowsSkippedStale());
        assertEquals(1, metrics.getRowsDeleted());
        assertEquals(3, metrics.getDeletesSkipped());
        assertEquals(2, metrics.getBatches());
        assertEquals(8.0, metrics.getRowsPerBatchAvg());
        assertEquals(14, metrics.getRowsPerBatchMax());
        assertEquals(3.5, metrics.getBatchLatencyAvgMs());
        assertEquals(5.0, metrics.getBatchLatencyMaxMs());
    }

    @Test
    void aCommitThatSentNoRowsIsNoBatch() {
        SinkMetrics metrics = new SinkMetrics();
        metrics.committed(new WriteCounts(), 9_000_000);
        assertEquals(0, metrics.getBatches());
        assertEquals(0.0, metrics.getRowsPerBatchAvg());
        assertEquals(0.0, metrics.getBatchLatencyAvgMs());
        assertEquals(0.0, metrics.getBatchLatencyMaxMs());
    }

    @Test
    void lastErrorIsTheNewestDeadLetterOrFailure() {
        SinkMetrics metrics = new SinkMetrics();
        assertNull(metrics.getLastError());
        assertEquals(0, metrics.getLastErrorTimestampMs());
        metrics.sentToDlq("Record at t-0@4 sent to the dead letter queue: value too long");
        assertEquals(1, metrics.getRecordsSentToDlq());
        assertEquals("Record at t-0@4 sent to the dead letter queue: value too long", metrics.getLastError());
        assertTrue(metrics.getLastErrorTimestampMs() > 0);
        metrics.failed("Writing a batch failed");
        assertEquals("Writing a batch failed", metrics.getLastError());
        assertEquals(1, metrics.getRecordsSentToDlq());
    }

    @Test
    void retriesAreCounted() {
        SinkMetrics metrics = new SinkMetrics();
        metrics.retried();
        metrics.retried();
        assertEquals(2, metrics.getRetries());
    }

    @Test
    void theConnectorNameIsQuotedWhenJmxNeedsIt() throws Exception {
        assertEquals(new ObjectName("io.pgcdc:type=sink-task-metrics,connector=olap-sink,task=0"),
                SinkMetrics.objectName("olap-sink", 0));
        ObjectName odd = SinkMetrics.objectName("olap:eu,west=1", 3);
        assertEquals("\"olap:eu,west=1\"", odd.getKeyProperty("connector"));
        assertEquals("3", odd.getKeyProperty("task"));
    }
}
