package io.pgcdc.benchmarks;

import java.util.ArrayList;
import java.util.List;

/** --scale=0.01..1 (fraction of every workload's rows) and --workloads=ID,... (all by default). */
record Options(double scale, List<Workload> workloads) {

    static Options parse(String[] args) {
        double scale = 1;
        List<Workload> workloads = List.of(Workload.values());
        for (String arg : args) {
            if (arg.startsWith("--scale=")) {
                scale = Double.parseDouble(arg.substring("--scale=".length()));
                if (scale < 0.01 || scale > 1) {
                    throw new IllegalArgumentException("--scale must be between 0.01 and 1, not " + scale);
                }
            } else if (arg.startsWith("--workloads=")) {
                List<Workload> chosen = new ArrayList<>();
                for (String id : arg.substring("--workloads=".length()).split(",")) {
                    chosen.add(Workload.byId(id.strip()));
                }
                workloads = chosen;
            } else {
                throw new IllegalArgumentException("Unknown argument " + arg
                        + "; usage: ./run-benchmarks.sh [--scale=0.01..1] [--workloads=inserts,updates,one-transaction,concurrent,jsonb-4k]");
            }
        }
        return new Options(scale, workloads);
    }
}
