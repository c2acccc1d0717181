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
            // The failure surfaces once, and the batch handed over with it was not started: Connect fails the
            // task, which restarts from the committed offsets, before both batches.
            background.await();
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
