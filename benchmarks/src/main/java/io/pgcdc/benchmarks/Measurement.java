package io.pgcdc.benchmarks;

/** One contender's figure on one workload: rows per second and peak heap, or why there is none. */
record Measurement(double rowsPerSecond, HeapPeak.Peaks heap, String failure) {

    /** @param heap null where the contender does not run in the worker */
    static Measurement of(long rows, double seconds, HeapPeak.Peaks heap) {
        // At small scales a run can finish within the clocks' resolution.
        return new Measurement(rows / Math.max(seconds, 0.001), heap, null);
    }

    /** The reason's first 200 characters: Connect's messages can list every plugin it knows. */
    static Measurement failed(String reason) {
        String brief = reason == null ? "no reason given" : reason.replace('|', '/').replace('\n', ' ');
        return new Measurement(0, null, brief.length() > 200 ? brief.substring(0, 200) + "..." : brief);
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

    /** This figure over another, as "1.23×", or n/a when either is missing. */
    String ratioTo(Measurement other) {
        return ok() && other.ok() ? String.format("%.2f×", rowsPerSecond / other.rowsPerSecond) : "n/a";
    }
}
