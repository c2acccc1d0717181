package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/** The hand-over between the task's thread and the writing thread; no database is reachable here. */
class BackgroundWriterTest {

    private static final Map<String, String> PROPS = Map.of("connection.url", "jdbc:postgresql://localhost:1/olap",
            "topics", "t", "max.retries", "0");

    /** Records which thread reported what. */
    private static final class Reporter implements ErrantRecordReporter {
        final List<String> reports = new ArrayList<>();

        @Override
        public Future<Void> report(SinkRecord record, Throwable error) {
            reports.add(Thread.currentThread().getName() + ":" + record.kafkaOffset());
            return CompletableFuture.completedFuture(null);
        }
    }

    private static SinkRecord record(long offset, Object value) {
        return new SinkRecord("t", 0, null, null, null, value, offset);
    }

    @Test
    void recordsTheWritingThreadRejectedAreReportedOnTheTasksThreadWhenItWaits() {
        Reporter reporter = new Reporter();
        BatchWriter writer = new BatchWriter(new SinkConfig(PROPS), reporter, new SinkMetrics());
        try (BackgroundWriter background = new BackgroundWriter(writer, "writer-under-test")) {
            background.submit(writer.parse(List.of(record(1, "not a row"), record(2, "nor this"))));
            assertEquals(List.of(), reporter.reports, "nothing is reported before the task waits for the batch");
            background.await();
            String task = Thread.currentThread().getName();
            assertNotEquals("writer-under-test", task);
            assertEquals(List.of(task + ":1", task + ":2"), reporter.reports);
            background.await(); // nothing in flight: returns at once, reports nothing again
            assertEquals(2, reporter.reports.size());
        }
    }

    @Test
    void aFailedWriteFailsTheNextHandOverAndThatBatchIsNotStarted() {
        BatchWriter writer = new BatchWriter(new SinkConfig(PROPS), null, new SinkMetrics());
        try (BackgroundWriter background = new BackgroundWriter(writer, "writer-under-test")) {
            Map<String, Object> row = Map.of("id", 1);
            background.submit(writer.parse(List.of(record(1, row))));
            ConnectException failure = assertThrows(ConnectException.class,
                    () -> background.submit(writer.parse(List.of(record(2, row)))));
            assertTrue(failure.getMessage().contains("Writing a batch of 1 rows"), failure.getMessage());
            // The batch handed over with it was not started, and the failure stays: Connect asks preCommit() for
            // offsets as it stops the failed task, and must commit none past the batch that was not written.
            ConnectException again = assertThrows(ConnectException.class, background::await);
            assertTrue(again.getMessage().contains("no offsets are committed past it"), again.getMessage());
            assertEquals(failure, again.getCause());
        }
    }

    @Test
    void aRejectedRecordIsInTheDeadLetterQueueBeforeTheTaskMayCommitItsOffset() throws Exception {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        ErrantRecordReporter reporter = (record, error) -> sent;
        BatchWriter writer = new BatchWriter(new SinkConfig(PROPS), reporter, new SinkMetrics());
        try (BackgroundWriter background = new BackgroundWriter(writer, "writer-under-test")) {
            background.submit(writer.parse(List.of(record(1, "not a row"))));
            CompletableFuture<Void> waited = CompletableFuture.runAsync(background::await);
            assertThrows(TimeoutException.class, () -> waited.get(300, TimeUnit.MILLISECONDS),
                    "await() returned before the dead letter queue acknowledged the record");
            sent.complete(null);
            waited.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRecordTheDeadLetterQueueRefusedFailsTheTask() {
        ErrantRecordReporter reporter = (record, error) -> CompletableFuture.failedFuture(new IllegalStateException("full"));
        BatchWriter writer = new BatchWriter(new SinkConfig(PROPS), reporter, new SinkMetrics());
        try (BackgroundWriter background = new BackgroundWriter(writer, "writer-under-test")) {
            background.submit(writer.parse(List.of(record(3, "not a row"))));
            ConnectException failure = assertThrows(ConnectException.class, background::await);
            assertTrue(failure.getMessage().contains("did not take record at t-0@3"), failure.getMessage());
            assertThrows(ConnectException.class, background::await, "the failure stays");
        }
    }

    @Test
    void withoutADeadLetterQueueARejectedRecordFailsTheTaskNamingIt() {
        BatchWriter writer = new BatchWriter(new SinkConfig(PROPS), null, new SinkMetrics());
        try (BackgroundWriter background = new BackgroundWriter(writer, "writer-under-test")) {
            background.submit(writer.parse(List.of(record(7, "not a row"))));
            ConnectException failure = assertThrows(ConnectException.class, background::await);
            assertTrue(failure.getMessage().contains("at t-0@7"), failure.getMessage());
            assertTrue(failure.getCause() instanceof DataException, String.valueOf(failure.getCause()));
        }
    }
}
