package io.pgcdc.sink;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.errors.ConnectException;

/**
 * Writes each batch on a thread of its own, so that the worker polls and parses the next batch
 * while PostgreSQL runs this one's statements. One batch at a time, in put() order: the task waits
 * for the batch in flight before handing over the next one and before Connect commits offsets,
 * so a committed offset is always one whose record is in PostgreSQL or reported as rejected.
 * Rejected records are reported, and failures rethrown, on the task's thread; once a batch failed,
 * nothing more is written and no offset may be committed.
 */
final class BackgroundWriter implements AutoCloseable {

    /** How long stop() lets a batch in flight finish before closing its connection under it. */
    private static final long CLOSE_WAIT_SECONDS = 5;

    private final BatchWriter writer;
    private final ExecutorService thread;
    private Future<List<BatchWriter.Rejected>> inFlight;
    private RuntimeException failure;

    BackgroundWriter(BatchWriter writer, String threadName) {
        this.writer = writer;
        this.thread = Executors.newSingleThreadExecutor(runnable -> {
            Thread t = new Thread(runnable, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** Waits for the batch in flight (see {@link #await}), then starts writing this one. */
    void submit(BatchWriter.Parsed batch) {
        await();
        if (!batch.byTable().isEmpty() || !batch.rejected().isEmpty()) {
            inFlight = thread.submit(() -> writer.write(batch));
        }
    }

    /**
     * Waits for the batch in flight, reports the records it rejected, and rethrows its failure. A failure
     * is rethrown by every later call too: Connect still asks to commit offsets after a task failed (as it
     * stops the task) or after put() or preCommit() threw during a rebalance, and those offsets cover the
     * batch that was not written, which a restarted task must write.
     */
    void await() {
        if (failure != null) {
            throw new ConnectException("A batch failed and was not written; no offsets are committed past it "
                    + "until the task is restarted: " + failure.getMessage(), failure);
        }
        if (inFlight == null) {
            return;
        }
        Future<List<BatchWriter.Rejected>> done = inFlight;
        inFlight = null;
        try {
            writer.report(done.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done.cancel(true);
            failure = new ConnectException("Interrupted while waiting for a batch to be written", e);
            throw failure;
        } catch (ExecutionException e) {
            failure = e.getCause() instanceof RuntimeException cause ? cause
                    : new ConnectException("Writing a batch failed: " + e.getCause(), e.getCause());
            throw failure;
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow(); // interrupts a retry's back-off
        try {
            thread.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.close();
    }
}
