package io.pgcdc.testsupport;

import java.time.Duration;
import java.util.function.Supplier;

/** Waits on a condition with a deadline, instead of sleeping for a guessed time. */
public final class Await {

    private Await() {
    }

    public interface Check {
        boolean ok() throws Exception;
    }

    public static void until(Duration timeout, String what, Check check) {
        until(timeout, () -> what, check);
    }

    public static void until(Duration timeout, Supplier<String> what, Check check) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what.get(), e);
            }
        }
        throw new AssertionError("Timed out after " + timeout.toSeconds() + " s waiting for " + what.get(), last);
    }

    /** Asserts that {@code check} stays true for all of {@code duration}, looking every 100 ms. */
    public static void holds(Duration duration, String what, Check check) throws Exception {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            if (!check.ok()) {
                throw new AssertionError("No longer true: " + what);
            }
            Thread.sleep(100);
        }
    }
}
