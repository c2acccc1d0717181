package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;

/**
 * The fault-injection soak (issue 8): the worked OLAP example end to end, concurrent writers for a
 * bounded time while faults strike at seeded random moments — task and connector restarts through
 * REST, a worker stopped or killed and a new one added, the walsender terminated, the sink's
 * connections terminated, the OLAP PostgreSQL and the Kafka broker restarted, one huge
 * transaction. Afterwards every OLAP row is compared with its OLTP row, the trigger-kept totals
 * with the OLTP sums, and the change topics are read under read_committed for duplicates.
 *
 * <p>{@code -Dsoak.seconds=N} sets the load's duration (60 by default, every fault kind once);
 * {@code -Dsoak.seed=S} replays a run's schedule. The run's log and summary go to target/soak-report.txt as
 * they happen.
 */
class SoakIT {

    private static final int WRITERS = 3;
    /** Each writer's pause after a commit: a load the pipeline drains while faults interrupt it. */
    private static final Duration PACING = Duration.ofMillis(10);
    private static final Duration CONVERGENCE = Duration.ofMinutes(5);
    private static final Duration PROGRESS = Duration.ofSeconds(10);
    private static final Pattern CHANGE_TOPICS = Pattern.compile("app\\.public\\..*");
    private static final Path REPORT = Path.of("target", "soak-report.txt");

    private final long started = System.nanoTime();

    @Test
    void everyOlapRowEqualsItsOltpRowAfterFaults() throws Exception {
        Files.deleteIfExists(REPORT);
        long seed = Long.getLong("soak.seed", new Random().nextLong());
        Duration load = Duration.ofSeconds(Long.getLong("soak.seconds", 60));
        FaultSchedule schedule = FaultSchedule.plan(seed, load);
        say("seed " + seed + " (replay: -Dsoak.seed=" + seed + "), load " + load.toSeconds() + " s, "
                + schedule.faults().size() + " faults planned");
        Map<Fault, Integer> injected = new EnumMap<>(Fault.class);
        try (SoakRig rig = SoakRig.start(Path.of(System.getProperty("pgcdc.config.examples")),
                System.getProperty("pgcdc.plugin.path"), 2)) {
            Database oltp = rig.oltpDatabase();
            Workload.history(oltp);
            rig.registerConnectors();
            rig.awaitRunning("registration");
            assertTrue(awaitConvergence(rig, "the initial snapshot"), "the initial snapshot arrived");

            long transactions;
            long loadStart = System.nanoTime();
            Random details = new Random(seed + 1);
            try (Workload workload = new Workload(oltp, WRITERS, PACING)) {
                for (FaultSchedule.Planned planned : schedule.faults()) {
                    awaitMoment(loadStart, planned.at());
                    double struck = seconds(loadStart);
                    String what = planned.fault().inject(rig, workload, details);
                    say(String.format("fault at %5.1f s of load (planned %5.1f s): %s, %s", struck,
                            planned.at().toMillis() / 1000.0, planned.fault(), what));
                    injected.merge(planned.fault(), 1, Integer::sum);
                    rig.awaitRunning(planned.fault().toString());
                }
                awaitMoment(loadStart, load);
                transactions = workload.transactions();
            }
            say(String.format("load stopped after %.1f s: %d OLTP transactions", seconds(loadStart), transactions));

            // Compared even when it never converged: the differences say what was lost.
            awaitConvergence(rig, "the load");
            OlapComparison.Result result = OlapComparison.compare(rig.oltp, SoakRig.OLTP_DB, rig.olap, SoakRig.OLAP_DB);
            ChangeDuplicates.Count duplicates = ChangeDuplicates.read(rig.connect.kafka().bootstrapServers(), CHANGE_TOPICS);

            say("faults injected by kind: " + injected);
            say("task failures after faults: " + rig.taskFailures().size());
            rig.taskFailures().forEach(failure -> say("  " + failure));
            say("rows compared: " + result.compared() + " (time entries, projects, project and team totals)");
            say("mismatches: " + result.mismatches().size());
            result.mismatches().stream().limit(20).forEach(line -> say("  " + line));
            say("change events read (read_committed): " + duplicates.changes());
            say("duplicates seen in Kafka (exactly-once): " + duplicates.duplicates().size());
            duplicates.duplicates().stream().limit(20).forEach(line -> say("  " + line));
            say(String.format("wall time %.1f s", seconds(started)));

            assertEquals(Fault.values().length, injected.size(), "every kind of fault struck: " + injected);
            assertEquals(List.of(), result.mismatches().stream().limit(20).toList(), "OLAP rows and totals equal OLTP's");
            assertEquals(List.of(), duplicates.duplicates().stream().limit(20).toList(), "no change event twice");
            comparisonCatchesACorruptedRow(rig);
        }
    }

    /** The comparison can fail: one OLAP row changed behind the pipeline's back is reported, with the totals it moved. */
    private static void comparisonCatchesACorruptedRow(SoakRig rig) throws Exception {
        String id = rig.olap.queryValue(SoakRig.OLAP_DB, "SELECT min(id) FROM olap.time_entries");
        rig.olap.execute(SoakRig.OLAP_DB, "UPDATE olap.time_entries SET duration_s = duration_s + 1 WHERE id = " + id);
        List<String> mismatches = OlapComparison.compare(rig.oltp, SoakRig.OLTP_DB, rig.olap, SoakRig.OLAP_DB).mismatches();
        assertTrue(mismatches.stream().anyMatch(line -> line.startsWith("time entry " + id + ":")), mismatches::toString);
        assertTrue(mismatches.stream().anyMatch(line -> line.startsWith("project total ")), mismatches::toString);
        assertTrue(mismatches.stream().anyMatch(line -> line.startsWith("team total ")), mismatches::toString);
    }

    private boolean awaitConvergence(SoakRig rig, String after) {
        long[] reported = {System.nanoTime()};
        try {
            Await.until(CONVERGENCE, "the OLAP rows to converge on the OLTP rows after " + after, () -> {
                if (OlapComparison.converged(rig.oltp, SoakRig.OLTP_DB, rig.olap, SoakRig.OLAP_DB)) {
                    return true;
                }
                if (System.nanoTime() - reported[0] > PROGRESS.toNanos()) {
                    reported[0] = System.nanoTime();
                    say("catching up: " + OlapComparison.rowCounts(rig.oltp, SoakRig.OLTP_DB, rig.olap, SoakRig.OLAP_DB));
                }
                return false;
            });
        } catch (AssertionError timedOut) {
            say("no convergence within " + CONVERGENCE.toMinutes() + " min after " + after);
            return false;
        }
        say("converged after " + after);
        return true;
    }

    private static void awaitMoment(long loadStart, Duration at) {
        Await.until(at.plusMinutes(1), "the load to reach " + at.toSeconds() + " s",
                () -> System.nanoTime() - loadStart >= at.toNanos());
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** To the test's output and, as it happens, to the report: a long run can be followed with tail -f. */
    private void say(String line) {
        String stamped = String.format("[soak %6.1f s] %s%n", seconds(started), line);
        System.out.print(stamped);
        try {
            Files.writeString(REPORT, stamped, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
