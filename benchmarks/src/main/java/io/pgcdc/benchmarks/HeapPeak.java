package io.pgcdc.benchmarks;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

/**
 * Heap use of this JVM since the last reset: the worker runs in it, next to the broker and this
 * driver, so the figures are upper bounds on the worker's own, comparable between contenders of one
 * run. Two figures: the highest heap left after a collection (what was live, the one that shows
 * whether memory stays flat) and the highest heap in use at all (which mostly shows when the
 * collector chose to run).
 */
final class HeapPeak {

    /** Both peaks in MiB; afterGc is -1 when no collection ran. */
    record Peaks(long afterGcMb, long inUseMb) {
        @Override
        public String toString() {
            return (afterGcMb < 0 ? "no GC" : afterGcMb + " MiB") + " (" + inUseMb + " MiB)";
        }
    }

    private static final AtomicLong AFTER_GC_BYTES = new AtomicLong(-1);
    private static final Set<String> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(pool -> pool.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());

    static {
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) collector).addNotificationListener((notification, handback) -> {
                if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    GarbageCollectionNotificationInfo info =
                            GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                    AFTER_GC_BYTES.accumulateAndGet(heapUsed(info), Math::max);
                }
            }, null, null);
        }
    }

    private HeapPeak() {
    }

    private static long heapUsed(GarbageCollectionNotificationInfo info) {
        long used = 0;
        for (var pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (HEAP_POOLS.contains(pool.getKey())) {
                used += pool.getValue().getUsed();
            }
        }
        return used;
    }

    /** Collects first, so that what earlier contenders left behind is not counted against the next. */
    static void reset() {
        System.gc();
        AFTER_GC_BYTES.set(-1);
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    /** The in-use peak sums each pool's own peak, reached at different moments: it errs high, never low. */
    static Peaks read() {
        long inUse = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                MemoryUsage peak = pool.getPeakUsage();
                inUse += peak.getUsed();
            }
        }
        long afterGc = AFTER_GC_BYTES.get();
        return new Peaks(afterGc < 0 ? -1 : afterGc / (1024 * 1024), inUse / (1024 * 1024));
    }
}
