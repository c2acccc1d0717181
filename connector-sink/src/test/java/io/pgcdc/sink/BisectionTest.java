package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

class BisectionTest {

    /** A table that takes a group of rows all or nothing, refusing any group holding a bad row. */
    private static final class FakeTable {
        final Set<Integer> bad;
        final List<Integer> written = new ArrayList<>();
        final List<Integer> rejected = new ArrayList<>();
        int statements;

        FakeTable(Set<Integer> bad) {
            this.bad = bad;
        }

        void write(List<Integer> rows) throws SQLException {
            Bisection.run(rows, some -> {
                statements++;
                if (some.stream().anyMatch(bad::contains)) {
                    return new SQLException("value too long", "22001");
                }
                written.addAll(some);
                return null;
            }, (row, e) -> rejected.add(row));
        }
    }

    private static List<Integer> rows(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void aGoodGroupIsOneStatement() throws SQLException {
        FakeTable table = new FakeTable(Set.of());
        table.write(rows(1000));
        assertEquals(rows(1000), table.written);
        assertEquals(1, table.statements);
    }

    @Test
    void eachBadRowIsRejectedAloneAndEveryOtherRowIsWritten() throws SQLException {
        Set<Integer> bad = Set.of(0, 17, 18, 511, 999);
        FakeTable table = new FakeTable(bad);
        table.write(rows(1000));
        assertEquals(new TreeSet<>(bad), new TreeSet<>(table.rejected));
        assertEquals(rows(1000).stream().filter(r -> !bad.contains(r)).toList(), table.written, "the rest, in order");
    }

    @Test
    void oneBadRowCostsAboutTwoStatementsPerHalving() throws SQLException {
        FakeTable table = new FakeTable(Set.of(700));
        table.write(rows(1024));
        assertEquals(List.of(700), table.rejected);
        assertEquals(1 + 2 * 10, table.statements, "the whole, then both halves at each of 10 levels");
    }

    @Test
    void aGroupOfOnlyBadRowsRejectsThemAll() throws SQLException {
        FakeTable table = new FakeTable(Set.of(0, 1, 2));
        table.write(rows(3));
        assertEquals(List.of(0, 1, 2), table.rejected);
        assertEquals(List.of(), table.written);
    }

    @Test
    void anErrorThatIsNotTheRowsEndsTheBisection() {
        SQLException lost = new SQLException("connection lost", "08006");
        List<Integer> tried = new ArrayList<>();
        SQLException thrown = assertThrows(SQLException.class, () -> Bisection.run(rows(8), some -> {
            tried.add(some.size());
            if (some.size() < 8) {
                throw lost;
            }
            return new SQLException("bad", "22P02");
        }, (row, e) -> {
            throw new AssertionError("nothing is rejected for a lost connection");
        }));
        assertSame(lost, thrown);
        assertEquals(List.of(8, 4), tried);
    }

    @Test
    void sqlStatesAreSortedIntoRowErrorsAndTransientOnes() {
        for (String rowState : List.of("22001", "22P02", "22P05", "22003", "22021", "23505", "23502", "23514", "54000")) {
            SQLException e = new SQLException("x", rowState);
            assertTrue(SqlErrors.isRowError(e) && !SqlErrors.isTransient(e), rowState);
        }
        for (String transientState : List.of("08006", "08003", "57P01", "53300", "40001", "40P01")) {
            SQLException e = new SQLException("x", transientState);
            assertTrue(SqlErrors.isTransient(e) && !SqlErrors.isRowError(e), transientState);
        }
        SQLException denied = new SQLException("permission denied", "42501");
        assertTrue(!SqlErrors.isRowError(denied) && !SqlErrors.isTransient(denied), "a privilege problem fails the task");
    }
}
