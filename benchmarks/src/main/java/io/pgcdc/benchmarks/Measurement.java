package io.pgcdc.benchmarks;

/**
 * One contender's figure on one workload: rows per second, peak heap and, for sources, CPU per 1,000
 * rows; or why there is none.
 */
record Measurement(double rowsPerSecond, HeapPeak.Peaks heap, CpuPerThousandRows cpu, String failure) {

    /** Milliseconds of CPU per 1,000 rows; a negative figure was not measured. */
    record CpuPerThousandRows(double databaseMs, double jvmMs) { }

    /** @param heap null where the contender does not run in the worker */
    static Measurement of(long rows, double seconds, HeapPeak.Peaks heap) {
        // At small scales a run can finish within the clocks' resolution.
        return new Measurement(rows / Math.max(seconds, 0.001), heap, null, null);
    }

    /** The reason's first 200 characters: Connect's messages can list every plugin it knows. */
    static Measurement failed(String reason) {
        String brief = reason == null ? "no reason given" : reason.replace('|', '/').replace('\n', ' ');
        return new Measurement(0, null, null, brief.length() > 200 ? brief.substring(0, 200) + "..." : brief);
    }

    /** @param jvm whether the JVM's CPU counts: not for a contender outside it, whose JVM share is idle noise */
    Measurement withCpu(CpuCost.Seconds seconds, long rows, boolean jvm) {
        double perThousand = 1e6 / rows;
        return new Measurement(rowsPerSecond, heap, new CpuPerThousandRows(
                seconds.database() < 0 ? -1 : seconds.database() * perThousand, jvm ? seconds.jvm() * perThousand : -1),
                failure);
    }

    boolean ok() {
        return failure == null;
    }

    String rate() {
        return ok() ? String.format("%,.0f", rowsPerSecond) : "n/a (" + failure + ")";
    }

    String heapText() {
        return ok() && heap != null ? heap.toString() : "n/a";
    }

    String databaseCpuText() {
        return ok() && cpu != null ? millis(cpu.databaseMs()) : "n/a";
    }

    String jvmCpuText() {
        return ok() && cpu != null ? millis(cpu.jvmMs()) : "n/a";
    }

    private static String millis(double ms) {
        return ms < 0 ? "n/a" : String.format("%,.1f ms", ms);
    }

    /** This figure over another, as "1.23×", or n/a when either is missing. */
    String ratioTo(Measurement other) {
        return ok() && other.ok() ? String.format("%.2f×", rowsPerSecond / other.rowsPerSecond) : "n/a";
    }
}
