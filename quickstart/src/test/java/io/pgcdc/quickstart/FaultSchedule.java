package io.pgcdc.quickstart;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * When which fault strikes, drawn from a seed so that a failing run can be replayed. Every kind
 * strikes at least once; longer runs get one more fault of a random kind per ten seconds of load.
 * Moments fall one per equal slot of the load, at a random point within it, so faults spread over
 * the run instead of piling up.
 */
record FaultSchedule(long seed, List<Planned> faults) {

    /** A fault and when it strikes, counted from the start of the load. */
    record Planned(Duration at, Fault fault) { }

    static FaultSchedule plan(long seed, Duration load) {
        Random random = new Random(seed);
        List<Fault> kinds = new ArrayList<>(Arrays.asList(Fault.values()));
        long extra = Math.max(0, load.toSeconds() / 10 - kinds.size());
        for (long i = 0; i < extra; i++) {
            kinds.add(Fault.values()[random.nextInt(Fault.values().length)]);
        }
        Collections.shuffle(kinds, random);
        // Leave the first and last tenth of the load unfaulted: changes before the first fault and after the last.
        long start = load.toMillis() / 10;
        long slot = (load.toMillis() - 2 * start) / kinds.size();
        List<Planned> faults = new ArrayList<>();
        for (int i = 0; i < kinds.size(); i++) {
            long at = start + i * slot + (long) (random.nextDouble() * slot);
            faults.add(new Planned(Duration.ofMillis(at), kinds.get(i)));
        }
        return new FaultSchedule(seed, faults);
    }
}
