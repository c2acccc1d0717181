package io.pgcdc.quickstart;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Future;

/**
 * Runs the live pipeline and checks it: a time-tracking workload on the OLTP database, the
 * source and sink connectors in a Connect worker, and at the end the team totals the OLAP
 * triggers kept compared with the totals computed on the OLTP side.
 *
 * <pre>
 * --duration=SECONDS      how long the writers run (default 60)
 * --writers=N             concurrent writers (default 4)
 * --large-transaction=N   rows of the one large transaction (default 100000; 0 for none)
 * --oltp=JDBC_URL         an existing OLTP database instead of a throwaway one
 *                         (jdbc:postgresql://HOST:PORT/DB?user=U&amp;password=P; wal_level=logical)
 * --olap=JDBC_URL         an existing OLAP database instead of a throwaway one
 * --connect=URL           an existing Connect worker's REST endpoint (both plugins installed,
 *                         exactly.once.source.support=enabled) instead of Kafka and Connect here
 * </pre>
 * ./run-pipeline.sh also takes --postgres-version=NN: the build's PostgreSQL binaries are of that major version.
 */
public final class Quickstart {

    private static final String USAGE = "options: --duration=SECONDS --writers=N --large-transaction=ROWS "
            + "--oltp=JDBC_URL --olap=JDBC_URL --connect=REST_URL (and, to ./run-pipeline.sh, --postgres-version=NN)";

    private Quickstart() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = 60;
        int writers = 4;
        int large = 100_000;
        String oltp = null;
        String olap = null;
        String connect = null;
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length < 2) {
                usage("Option " + arg + " has no value");
            }
            switch (kv[0]) {
                case "--duration" -> seconds = Integer.parseInt(kv[1]);
                case "--writers" -> writers = Integer.parseInt(kv[1]);
                case "--large-transaction" -> large = Integer.parseInt(kv[1]);
                case "--oltp" -> oltp = kv[1];
                case "--olap" -> olap = kv[1];
                case "--connect" -> connect = kv[1];
                default -> usage("Unknown option " + arg);
            }
        }
        String pluginPath = System.getProperty("pgcdc.plugin.path");
        Path examples = Path.of(System.getProperty("pgcdc.config.examples", "config-examples"));
        System.out.println("Starting " + (oltp == null ? "a throwaway OLTP PostgreSQL, " : "")
                + (olap == null ? "a throwaway OLAP PostgreSQL, " : "")
                + (connect == null ? "Kafka and Connect (plugins from " + pluginPath + ")" : "nothing else: Connect at " + connect));
        boolean consistent;
        try (Pipeline pipeline = Pipeline.start(new Pipeline.Options(pluginPath, examples, oltp, olap, connect))) {
            // Ctrl-C stops things in order (Connect, then Kafka and the databases) before the JVM's own
            // shutdown hooks run in parallel: a broker or database gone first leaves Connect's tasks
            // retrying until their graceful-stop timeout.
            for (String signal : List.of("INT", "TERM")) {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> {
                    System.out.println("Stopping everything this run started...");
                    // Connect swaps class loaders around its shutdown; this thread has none of its own.
                    Thread.currentThread().setContextClassLoader(Quickstart.class.getClassLoader());
                    pipeline.close();
                    System.exit(130);
                });
            }
            consistent = run(pipeline, Duration.ofSeconds(seconds), writers, large, System.out::println);
        }
        // After close(): System.exit inside the try would skip it and leave both databases running.
        System.exit(consistent ? 0 : 1);
    }

    private static void usage(String problem) {
        System.err.println(problem + "; " + USAGE);
        System.exit(2);
    }

    /** Runs the workload with progress reports, then waits for the OLAP totals to match; true when they do. */
    public static boolean run(Pipeline pipeline, Duration duration, int writers, int largeRows,
                              java.util.function.Consumer<String> out) throws Exception {
        out.accept("Connect REST at " + pipeline.restUrl() + "; OLTP at " + pipeline.oltp().jdbcUrl()
                + "; OLAP at " + pipeline.olap().jdbcUrl());
        Workload.history(pipeline.oltp());
        pipeline.registerConnectors();
        waitFor(Duration.ofMinutes(2), pipeline::running, "both connectors to run");
        out.accept("Connectors running (the existing rows arrive through the source's snapshot); writing for " + duration.toSeconds() + " s with " + writers + " writers"
                + (largeRows > 0 ? " and one " + largeRows + "-row transaction" : ""));
        long end = System.nanoTime() + duration.toNanos();
        try (Workload workload = new Workload(pipeline.oltp(), writers)) {
            Future<?> large = null;
            long halfway = System.nanoTime() + duration.toNanos() / 2;
            while (System.nanoTime() < end) {
                if (largeRows > 0 && large == null && System.nanoTime() > halfway) {
                    large = workload.largeTransaction(largeRows);
                }
                report(pipeline, workload.transactions(), out);
                Thread.sleep(2000);
            }
            if (large != null) {
                large.get();
            }
        }
        out.accept("Writers stopped; waiting for the OLAP side to catch up");
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        List<String> expected = pipeline.oltpTeamTotals();
        while (System.nanoTime() < deadline) {
            List<String> actual = pipeline.olapTeamTotals();
            if (actual.equals(expected)) {
                out.accept("OK: OLAP team totals equal the OLTP totals (team|seconds): " + actual);
                return true;
            }
            report(pipeline, -1, out);
            Thread.sleep(2000);
        }
        out.accept("MISMATCH: OLTP team totals " + expected + " but OLAP " + pipeline.olapTeamTotals());
        return false;
    }

    private static void report(Pipeline pipeline, long transactions, java.util.function.Consumer<String> out) {
        try {
            long captured = pipeline.changesCaptured();
            out.accept(String.format("%s%s rows in OLAP: %,d | slot lag: %,d bytes",
                    transactions >= 0 ? String.format("transactions: %,d | ", transactions) : "",
                    captured >= 0 ? String.format("changes captured: %,d |", captured) : "",
                    pipeline.rowsApplied(), pipeline.slotLagBytes()));
        } catch (Exception e) {
            out.accept("(progress not available: " + e.getMessage() + ")"); // e.g. while stopping
        }
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Duration timeout, Check check, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Timed out waiting for " + what);
            }
            Thread.sleep(200);
        }
    }
}
