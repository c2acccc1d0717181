package io.pgcdc.sink;

import java.sql.SQLException;

/** What a failed statement's SQLSTATE says about retrying it. */
final class SqlErrors {

    private SqlErrors() {
    }

    /**
     * Errors one row's values can cause, which a retry would only repeat: data exceptions (class 22:
     * bad input syntax, out of range, too long, untranslatable characters), integrity violations (23),
     * program limits such as an index row too large (54), a datatype mismatch, corrupted data.
     */
    static boolean isRowError(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("22") || state.startsWith("23") || state.startsWith("54")
                || state.equals("42804") || state.equals("XX001"));
    }

    /** A data exception (class 22): a value that does not convert to its column's type. */
    static boolean isDataException(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("22");
    }

    /** An undefined table or column: the statement was built from a catalog that is out of date. */
    static boolean isTableChange(SQLException e) {
        return "42703".equals(e.getSQLState()) || "42P01".equals(e.getSQLState());
    }

    /**
     * Errors that pass: a lost connection (08, or none at all), a terminated backend or a restarting
     * server (57P), too many connections, a serialization failure or a deadlock (40001, 40P01). The
     * batch is rolled back and retried whole; its rows are never dead-lettered for these.
     */
    static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.startsWith("57P") || state.equals("53300")
                || state.equals("40001") || state.equals("40P01");
    }
}
