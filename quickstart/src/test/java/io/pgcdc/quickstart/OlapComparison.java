package io.pgcdc.quickstart;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pgcdc.testsupport.PostgresServer;

/**
 * Every OLAP row of the worked example against the OLTP row it came from (every column the sink
 * copies), and the totals the OLAP triggers keep against the same sums computed on the OLTP side.
 */
final class OlapComparison {

    /** The same rows, as "key → column values" text, on both sides; keys are the first column. */
    private record Query(String what, String oltp, String olap) { }

    private static final List<Query> QUERIES = List.of(
            new Query("time entry",
                    "SELECT id, user_id, project_id, duration_s, updated_at FROM time_entries",
                    "SELECT id, user_id, project_id, duration_s, updated_at FROM olap.time_entries"),
            new Query("project",
                    "SELECT id, team_id, name, updated_at FROM projects",
                    "SELECT id, team_id, name, updated_at FROM olap.projects"),
            new Query("project total",
                    "SELECT project_id, sum(duration_s) FROM time_entries GROUP BY project_id HAVING sum(duration_s) <> 0",
                    "SELECT project_id, total_s FROM olap.project_totals WHERE total_s <> 0"),
            new Query("team total",
                    "SELECT p.team_id, sum(e.duration_s) FROM time_entries e JOIN projects p ON p.id = e.project_id "
                            + "GROUP BY p.team_id HAVING sum(e.duration_s) <> 0",
                    "SELECT team_id, total_s FROM olap.team_totals WHERE total_s <> 0"));

    /** Rows and totals compared, and one line per difference. */
    record Result(long compared, List<String> mismatches) { }

    private OlapComparison() {
    }

    static Result compare(PostgresServer oltp, String oltpDb, PostgresServer olap, String olapDb) throws SQLException {
        long compared = 0;
        List<String> mismatches = new ArrayList<>();
        for (Query query : QUERIES) {
            Map<String, String> expected = rows(oltp, oltpDb, query.oltp());
            Map<String, String> actual = rows(olap, olapDb, query.olap());
            Set<String> keys = new HashSet<>(expected.keySet());
            keys.addAll(actual.keySet());
            for (String key : keys) {
                String want = expected.get(key);
                String got = actual.get(key);
                compared++;
                if (want == null) {
                    mismatches.add(query.what() + " " + key + " only in OLAP: " + got);
                } else if (got == null) {
                    mismatches.add(query.what() + " " + key + " missing in OLAP, OLTP has " + want);
                } else if (!want.equals(got)) {
                    mismatches.add(query.what() + " " + key + ": OLTP " + want + ", OLAP " + got);
                }
            }
        }
        return new Result(compared, mismatches);
    }

    /**
     * A cheap fingerprint of both sides' rows (counts, sums, newest change): equal once the pipeline
     * has delivered everything, so it tells when to compare row by row.
     */
    static boolean converged(PostgresServer oltp, String oltpDb, PostgresServer olap, String olapDb) throws SQLException {
        return fingerprint(oltp, oltpDb, "").equals(fingerprint(olap, olapDb, "olap."));
    }

    /** Where the OLAP side stands, for the log while it catches up. */
    static String rowCounts(PostgresServer oltp, String oltpDb, PostgresServer olap, String olapDb) throws SQLException {
        return "time entries OLTP " + oltp.queryValue(oltpDb, "SELECT count(*) FROM time_entries")
                + ", OLAP " + olap.queryValue(olapDb, "SELECT count(*) FROM olap.time_entries");
    }

    private static String fingerprint(PostgresServer server, String database, String schema) throws SQLException {
        String sql = "SELECT (SELECT count(*) || '/' || coalesce(sum(id), 0) || '/' || coalesce(sum(duration_s), 0) "
                + "|| '/' || coalesce(max(updated_at)::text, '') FROM %1$stime_entries) || ' ' "
                + "|| (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM %1$sprojects)";
        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            s.execute("SET TIME ZONE 'UTC'");
            try (ResultSet rs = s.executeQuery(String.format(sql, schema))) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Timestamps in UTC on both sides, so that equal instants read as equal text. */
    private static Map<String, String> rows(PostgresServer server, String database, String sql) throws SQLException {
        Map<String, String> rows = new LinkedHashMap<>();
        try (Connection c = server.connect(database); Statement s = c.createStatement()) {
            s.execute("SET TIME ZONE 'UTC'");
            try (ResultSet rs = s.executeQuery(sql)) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    StringBuilder values = new StringBuilder();
                    for (int i = 2; i <= columns; i++) {
                        values.append(i > 2 ? "|" : "").append(rs.getString(i));
                    }
                    rows.put(rs.getString(1), values.toString());
                }
            }
        }
        return rows;
    }
}
