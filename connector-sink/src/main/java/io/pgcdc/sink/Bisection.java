package io.pgcdc.sink;

import java.sql.SQLException;
import java.util.List;

/**
 * Finds the rows a statement rejects by splitting a failing group in halves until each culprit is
 * alone, so that every other row of the group is still written: about 2·log2(n) extra statements
 * per bad row instead of one statement per row.
 */
final class Bisection {

    private Bisection() {
    }

    /** One all-or-nothing try at some rows. */
    interface Trial<T> {
        /**
         * @return the error that undid the rows because of their values, or null when they were written
         * @throws SQLException any other error: it ends the bisection
         */
        SQLException attempt(List<T> rows) throws SQLException;
    }

    /** Told about each row that fails alone, with its error. */
    interface Rejection<T> {
        void reject(T row, SQLException reason) throws SQLException;
    }

    static <T> void run(List<T> rows, Trial<T> trial, Rejection<T> rejection) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        SQLException error = trial.attempt(rows);
        if (error == null) {
            return;
        }
        if (rows.size() == 1) {
            rejection.reject(rows.get(0), error);
            return;
        }
        int half = rows.size() / 2;
        run(rows.subList(0, half), trial, rejection);
        run(rows.subList(half, rows.size()), trial, rejection);
    }
}
