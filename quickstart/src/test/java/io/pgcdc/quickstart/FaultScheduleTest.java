package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class FaultScheduleTest {

    @Test
    void theShortRunStrikesWithEveryKindOnceInsideTheLoad() {
        for (long seed = 0; seed < 100; seed++) {
            FaultSchedule schedule = FaultSchedule.plan(seed, Duration.ofSeconds(60));
            Set<Fault> kinds = EnumSet.noneOf(Fault.class);
            Duration previous = Duration.ZERO;
            for (FaultSchedule.Planned planned : schedule.faults()) {
                assertTrue(kinds.add(planned.fault()), "seed " + seed + ": " + planned.fault() + " twice");
                assertTrue(planned.at().compareTo(previous) >= 0, "seed " + seed + ": moments out of order");
                assertTrue(planned.at().compareTo(Duration.ofSeconds(6)) >= 0
                        && planned.at().compareTo(Duration.ofSeconds(54)) <= 0, "seed " + seed + ": " + planned.at());
                previous = planned.at();
            }
            assertEquals(EnumSet.allOf(Fault.class), kinds, "seed " + seed);
        }
    }

    @Test
    void aSeedReplaysItsScheduleAndLongerRunsStrikeEveryTenSeconds() {
        assertEquals(FaultSchedule.plan(42, Duration.ofSeconds(1800)), FaultSchedule.plan(42, Duration.ofSeconds(1800)));
        FaultSchedule longRun = FaultSchedule.plan(42, Duration.ofSeconds(1800));
        assertEquals(180, longRun.faults().size());
        assertEquals(EnumSet.allOf(Fault.class), EnumSet.copyOf(longRun.faults().stream().map(FaultSchedule.Planned::fault).toList()));
    }
}
