package io.pgcdc.cutover;

import java.io.PrintStream;
import java.util.List;
import java.util.stream.Collectors;

/** The tables compared and the slot's lag, with the verdict an operator acts on. */
public record Report(List<TableResult> tables, SlotLag lag) {

    public boolean allEqual() {
        return tables.stream().allMatch(t -> t.outcome() == TableResult.Outcome.EQUAL);
    }

    public List<TableResult> unequal() {
        return tables.stream().filter(t -> t.outcome() != TableResult.Outcome.EQUAL).toList();
    }

    /** One line: for progress while waiting. */
    public String summary() {
        if (allEqual()) {
            return "EQUAL: " + (tables.size() == 1 ? "the table has" : "all " + tables.size() + " tables have")
                    + " the same rows on the source and the target";
        }
        List<TableResult> unequal = unequal();
        return "NOT EQUAL: " + unequal.size() + " of " + tables.size() + " tables differ ("
                + unequal.stream().map(TableResult::name).collect(Collectors.joining(", ")) + ")";
    }

    public void print(PrintStream out) {
        tables.forEach(t -> out.println(t.line()));
        if (lag != null) {
            out.println(lag.line());
        }
        out.println(summary());
    }
}
