package io.pgcdc.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.PostgresServer;

/**
 * The check against real databases: a source with many types, and a target holding the same data
 * in the types the sink's auto.create gives (varchar and enums as text, json as jsonb, ...), written
 * in other forms (another scale, offset, spacing, padding, row order). Equal data compares equal;
 * each kind of difference is reported on its table only.
 */
class ReplicaComparisonIT {

    private static final AtomicInteger PAIRS = new AtomicInteger();
    private static PostgresServer pg;

    private static final String SOURCE_SCHEMA = """
            CREATE SCHEMA shop;
            CREATE TYPE shop.mood AS ENUM ('happy', 'sad, very');
            CREATE DOMAIN shop.positive AS integer CHECK (VALUE > 0);
            CREATE TABLE shop.items (
              id bigint PRIMARY KEY, code char(5), name varchar(40), price numeric(10,2), exact numeric,
              ratio real, score double precision, ok boolean, day date, at timestamp, at_tz timestamptz,
              t time, t_tz timetz, took interval, uid uuid, doc json, docb jsonb, bin bytea, nums int[],
              words text[], feeling shop.mood, feelings shop.mood[], qty shop.positive,
              doubled numeric GENERATED ALWAYS AS (price * 2) STORED);
            CREATE TABLE shop.lines (order_id int, line smallint, note text, PRIMARY KEY (order_id, line));
            CREATE TABLE shop."Odd ""names""\" ("Key" int PRIMARY KEY, "a,b" text);
            """;

    /** As the sink's auto.create makes them, plus its guard column; price with another scale, as a hand-made table might. */
    private static final String TARGET_SCHEMA = """
            CREATE SCHEMA replica;
            CREATE TABLE replica.items (
              id bigint PRIMARY KEY, code text, name text, price numeric(12,4), exact text,
              ratio real, score double precision, ok boolean, day date, at timestamp, at_tz timestamptz,
              t time, t_tz timetz, took interval, uid uuid, doc jsonb, docb jsonb, bin bytea, nums integer[],
              words text[], feeling text, feelings text[], qty integer, _pgcdc_lsn numeric);
            CREATE TABLE replica.lines (order_id int, line smallint, note text, _pgcdc_lsn numeric, PRIMARY KEY (order_id, line));
            CREATE TABLE replica."Odd ""names""\" ("Key" int PRIMARY KEY, "a,b" text, _pgcdc_lsn numeric);
            """;

    private static final String ITEM_COLUMNS = "(id, code, name, price, exact, ratio, score, ok, day, at, at_tz, t, t_tz, took, "
            + "uid, doc, docb, bin, nums, words, feeling, feelings, qty)";

    @BeforeAll
    static void start() {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    /** A source database and a target database holding the same rows; returns the pair's suffix. */
    private static String equalPair() throws Exception {
        String n = String.valueOf(PAIRS.incrementAndGet());
        pg.createDatabase("app" + n);
        pg.createDatabase("replica" + n);
        pg.execute("app" + n, SOURCE_SCHEMA,
                "INSERT INTO shop.items " + ITEM_COLUMNS + " VALUES "
                        + "(1, 'ab', 'Ann, \"the\" first', 1.50, 1.500, 0.1, 1e-300, true, '2024-02-29', '2024-02-29 13:14:15.123456', "
                        + "'2024-03-01 12:00:00+01', '23:59:59.999999', '10:00:00+02', '1 day 02:00:00', "
                        + "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"b\": 1,   \"a\": [1, \"x\"]}', '{\"k\": null}', '\\xdead00', "
                        + "'{1,NULL,3}', '{\"x, y\",NULL,\"\"}', 'sad, very', '{happy,\"sad, very\"}', 7),"
                        + "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                        + "NULL, NULL, NULL, NULL, NULL),"
                        + "(3, '', '', 0, 'NaN', 'NaN', '-Infinity', false, 'infinity', '-infinity', 'infinity', '00:00', '00:00+00', "
                        + "'0', '00000000-0000-0000-0000-000000000000', '[]', '{}', '', '{}', '{}', 'happy', '{}', 1)",
                "INSERT INTO shop.items (id, name, price, exact, at_tz, ok) SELECT g, 'item ' || g, g / 7.0, g / 3.0, "
                        + "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', g % 2 = 0 FROM generate_series(10, 1009) g",
                "INSERT INTO shop.lines SELECT o, l, CASE WHEN l = 1 THEN NULL ELSE 'line ' || l END "
                        + "FROM generate_series(1, 50) o, generate_series(1, 4) l",
                "INSERT INTO shop.\"Odd \"\"names\"\"\" VALUES (1, 'x'), (2, NULL)");
        pg.execute("replica" + n, TARGET_SCHEMA,
                // Another session time zone: the same instants written as other local times.
                "SET TimeZone = 'America/New_York'",
                // In reverse order, each value in another form: scale, offset, spacing, padding, key order.
                "INSERT INTO replica.items (id, name, price, exact, at_tz, ok, _pgcdc_lsn) SELECT g, 'item ' || g, "
                        + "round(g / 7.0, 2), (g / 3.0)::text, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', "
                        + "g % 2 = 0, g FROM generate_series(1009, 10, -1) g",
                "INSERT INTO replica.items " + ITEM_COLUMNS.replace(")", ", _pgcdc_lsn)") + " VALUES "
                        + "(3, '', '', 0.0000, 'NaN', 'NaN', '-Infinity', false, 'infinity', '-infinity', 'infinity', '00:00', "
                        + "'00:00+00', 'PT0S', '00000000-0000-0000-0000-000000000000', '[]', '{}', '', '{}', '{}', 'happy', '{}', 1, 3),"
                        + "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                        + "NULL, NULL, NULL, NULL, NULL, 2),"
                        + "(1, 'ab   ', 'Ann, \"the\" first', 1.5000, '1.500', 0.1, 1e-300, true, '2024-02-29', '2024-02-29 13:14:15.123456', "
                        + "'2024-03-01 11:00:00Z', '23:59:59.999999', '08:00:00+00', 'P1DT2H', "
                        + "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{\"a\":[1,\"x\"],\"b\":1}', '{\"k\":null}', '\\xdead00', "
                        + "'{1,NULL,3}', '{\"x, y\",NULL,\"\"}', 'sad, very', '{happy,\"sad, very\"}', 7, 1)",
                "INSERT INTO replica.lines SELECT o, l, CASE WHEN l = 1 THEN NULL ELSE 'line ' || l END, o * 10 + l "
                        + "FROM generate_series(50, 1, -1) o, generate_series(4, 1, -1) l",
                "INSERT INTO replica.\"Odd \"\"names\"\"\" VALUES (2, NULL, 2), (1, 'x', 1)");
        return n;
    }

    private record Run(int exitCode, String out) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + out;
        }
    }

    private static Run compare(String n, String... more) {
        return compare(n, line -> { }, more);
    }

    /** Runs the command; {@code onLine} sees each line it prints, as it prints it. */
    private static Run compare(String n, Consumer<String> onLine, String... more) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8) {
            @Override
            public void println(String line) {
                super.println(line);
                onLine.accept(line);
            }
        };
        String[] args = new String[2 + more.length];
        args[0] = "--source=" + pg.jdbcUrl("app" + n) + "?user=postgres";
        args[1] = "--target=" + pg.jdbcUrl("replica" + n) + "?user=postgres";
        System.arraycopy(more, 0, args, 2, more.length);
        int code = CompareCommand.run(args, out, out);
        return new Run(code, buffer.toString(StandardCharsets.UTF_8));
    }

    private static final String REPLICA_FORMAT = "--table-format=replica.${source.table}";

    @Test
    void sameDataInTheSinksTypesAndOtherFormsComparesEqual() throws Exception {
        String n = equalPair();
        Run run = compare(n, REPLICA_FORMAT, "--tables=shop\\..*");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("equal    shop.items -> replica.items: 1,003 rows, checksum "), run.toString());
        assertTrue(run.out().contains("equal    shop.lines -> replica.lines: 200 rows, checksum "), run.toString());
        assertTrue(run.out().contains("equal    shop.Odd \"names\" -> replica.Odd \"names\": 2 rows"), run.toString());
        assertTrue(run.out().contains("EQUAL: all 3 tables have the same rows on the source and the target"), run.toString());
    }

    @Test
    void eachKindOfDifferenceIsReportedOnItsTable() throws Exception {
        String n = equalPair();
        // An empty string that became NULL: same count, another checksum.
        pg.execute("replica" + n, "UPDATE replica.items SET name = NULL WHERE id = 3");
        // Two rows' values swapped: each column's multiset of values is unchanged, the rows are not.
        pg.execute("replica" + n, "UPDATE replica.lines SET note = CASE line WHEN 2 THEN 'line 3' ELSE 'line 2' END "
                + "WHERE order_id = 7 AND line IN (2, 3)");
        Run run = compare(n, REPLICA_FORMAT, "--tables=shop\\..*");
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.out().matches("(?s).*differs  shop\\.items -> replica\\.items: rows 1,003 / 1,003, checksum \\w{16} / \\w{16} "
                + "\\(source / target\\).*"), run.toString());
        assertTrue(run.out().contains("differs  shop.lines -> replica.lines: rows 200 / 200"), run.toString());
        assertTrue(run.out().contains("equal    shop.Odd \"names\""), run.toString());
        assertTrue(run.out().contains("NOT EQUAL: 2 of 3 tables differ (shop.items -> replica.items, shop.lines -> replica.lines)"),
                run.toString());

        // A missing row, a missing column, a missing table, a value that does not cast.
        pg.execute("replica" + n, "DELETE FROM replica.lines WHERE order_id = 1 AND line = 1",
                "ALTER TABLE replica.items DROP COLUMN uid",
                "DROP TABLE replica.\"Odd \"\"names\"\"\"");
        pg.execute("app" + n, "CREATE TABLE shop.notes (id int PRIMARY KEY, n int)", "INSERT INTO shop.notes VALUES (1, 1)");
        pg.execute("replica" + n, "CREATE TABLE replica.notes (id int PRIMARY KEY, n text)", "INSERT INTO replica.notes VALUES (1, 'one')");
        run = compare(n, REPLICA_FORMAT, "--tables=shop\\..*");
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.out().contains("differs  shop.items -> replica.items: the target lacks columns \"uid\"; rows 1,003 / 1,003"),
                run.toString());
        assertTrue(run.out().contains("differs  shop.lines -> replica.lines: rows 200 / 199"), run.toString());
        assertTrue(run.out().contains("missing  shop.Odd \"names\" -> replica.Odd \"names\": 2 rows on the source, no such table"),
                run.toString());
        assertTrue(run.out().contains("failed   shop.notes -> replica.notes: cannot compare: target: ERROR: invalid input syntax "
                + "for type integer: \"one\""), run.toString());
        assertTrue(run.out().contains("NOT EQUAL: 4 of 4 tables differ"), run.toString());
    }

    @Test
    void tablesOutsideTheListAndTheSinksExtraColumnsAreLeftOut() throws Exception {
        String n = equalPair();
        pg.execute("replica" + n, "UPDATE replica.items SET _pgcdc_lsn = 0",
                "DELETE FROM replica.lines");
        Run run = compare(n, REPLICA_FORMAT, "--tables=shop\\.items,shop\\.Odd.*");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("EQUAL: all 2 tables"), run.toString());
        assertTrue(!run.out().contains("shop.lines"), run.toString());
    }

    @Test
    void sameNamesByDefaultAndTheSlotsLag() throws Exception {
        String n = equalPair();
        pg.execute("replica" + n, "ALTER SCHEMA replica RENAME TO shop");
        pg.execute("app" + n, "SELECT pg_create_logical_replication_slot('cutover_" + n + "', 'pgoutput')");
        try {
            Run run = compare(n, "--slot=cutover_" + n);
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.out().contains("equal    shop.items: 1,003 rows"), run.toString());
            assertTrue(run.out().matches("(?s).*slot cutover_" + n + " \\(INACTIVE: no connector reads it\\): confirmed to "
                    + "[0-9A-F]+/[0-9A-F]+, [0-9,]+ bytes behind the source's WAL at [0-9A-F]+/[0-9A-F]+\n.*"), run.toString());
            assertEquals(2, compare(n, "--slot=no_such_slot").exitCode());
            assertEquals(2, compare(n, "--tables=nothing\\.here").exitCode());
        } finally {
            pg.execute("app" + n, "SELECT pg_drop_replication_slot('cutover_" + n + "')");
        }
    }

    @Test
    void waitsUntilTheTargetCatchesUp() throws Exception {
        String n = equalPair();
        pg.execute("replica" + n, "DELETE FROM replica.lines WHERE order_id = 1");
        Run run = compare(n, line -> {
            if (line.startsWith("attempt 1:")) {
                try {
                    // The sink delivering the missing rows between two attempts.
                    pg.execute("replica" + n, "INSERT INTO replica.lines SELECT 1, l, CASE WHEN l = 1 THEN NULL ELSE 'line ' || l END "
                            + "FROM generate_series(1, 4) l");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
        }, REPLICA_FORMAT, "--wait=600");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("attempt 1: NOT EQUAL: 1 of 3 tables differ (shop.lines -> replica.lines); comparing again"),
                run.toString());
        assertTrue(run.out().contains("EQUAL: all 3 tables"), run.toString());
    }
}
