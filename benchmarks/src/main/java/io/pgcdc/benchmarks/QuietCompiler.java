package io.pgcdc.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Waits, before a contender starts, until the JIT compiler has nothing left to compile. The warm-up runs
 * every contender's code, but compiling the worker's, the broker's and four connectors' code takes the
 * compiler minutes of a core: without this wait the backlog ran into the next measured contender
 * (a quarter of the JVM's samples were compiler threads during our source's and our sink's inserts
 * runs, which come first), a cost a long-running worker pays once.
 */
final class QuietCompiler {

    /** Compiling for less than this in a second counts as quiet: what a steady worker still compiles. */
    private static final long QUIET_MS_PER_SECOND = 20;
    private static final Duration LONGEST_WAIT = Duration.ofSeconds(120);

    private QuietCompiler() {
    }

    static void await() {
        CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();
        if (compiler == null || !compiler.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long deadline = System.nanoTime() + LONGEST_WAIT.toNanos();
        long compiled = compiler.getTotalCompilationTime();
        while (System.nanoTime() < deadline) {
            TestBed.sleep(1000);
            long now = compiler.getTotalCompilationTime();
            if (now - compiled < QUIET_MS_PER_SECOND) {
                return;
            }
            compiled = now;
        }
        System.out.println("  (the JIT compiler was still busy after " + LONGEST_WAIT.toSeconds() + " s; measuring anyway)");
    }
}
