package io.pgcdc.cutover;

import java.io.PrintStream;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import org.postgresql.Driver;

/**
 * The cutover check: compares every captured table of the source database with its copy on the
 * target, prints a line per table and a verdict, and exits 0 when all are equal, 1 when not, 2
 * when it could not compare (bad options, a server it cannot reach).
 *
 * <pre>
 * --source=JDBC_URL      the source (OLTP) database: jdbc:postgresql://HOST:PORT/DB?user=U&amp;password=P
 * --target=JDBC_URL      the replicated database
 * --tables=REGEX,...     source tables to compare, as the source connector's table.include.list
 *                        (full matches of 'schema.table'; default: every table)
 * --table-format=FORMAT  the sink's table.name.format: where a source table is on the target
 *                        (default ${source.schema}.${source.table})
 * --slot=NAME            the source connector's replication slot: reports its lag
 * --wait=SECONDS         compare again until all tables are equal or this time has passed (default 0: once)
 * </pre>
 */
public final class CompareCommand {

    static final int EQUAL = 0;
    static final int NOT_EQUAL = 1;
    static final int CANNOT_COMPARE = 2;
    private static final Duration BETWEEN_ATTEMPTS = Duration.ofSeconds(2);
    private static final String USAGE = "usage: compare.sh --source=JDBC_URL --target=JDBC_URL [--tables=REGEX,...] "
            + "[--table-format=${source.schema}.${source.table}] [--slot=NAME] [--wait=SECONDS]";

    private CompareCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the check and returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        ReplicaComparison.Options options;
        Duration wait;
        try {
            String source = null;
            String target = null;
            Predicate<TableName> tables = t -> true;
            TableNameFormat format = new TableNameFormat(TableNameFormat.SAME_NAME);
            String slot = null;
            wait = Duration.ZERO;
            for (String arg : args) {
                String[] kv = arg.split("=", 2);
                if (kv.length < 2 || kv[1].isEmpty()) {
                    throw new IllegalArgumentException("Option " + arg + " has no value");
                }
                switch (kv[0]) {
                    case "--source" -> source = kv[1];
                    case "--target" -> target = kv[1];
                    case "--tables" -> tables = tableFilter(kv[1]);
                    case "--table-format" -> format = new TableNameFormat(kv[1]);
                    case "--slot" -> slot = kv[1];
                    case "--wait" -> wait = Duration.ofSeconds(Long.parseLong(kv[1]));
                    default -> throw new IllegalArgumentException("Unknown option " + arg);
                }
            }
            if (source == null || target == null) {
                throw new IllegalArgumentException("Both --source and --target are required");
            }
            out.println("Comparing " + where(source) + " (source) with " + where(target) + " (target). Stop the writes "
                    + "to the source first: rows written meanwhile differ until the target has them.");
            options = new ReplicaComparison.Options(source, target, tables, format, slot);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(USAGE);
            return CANNOT_COMPARE;
        }
        try {
            Report report = untilEqual(new ReplicaComparison(options), wait, out);
            report.print(out);
            return report.allEqual() ? EQUAL : NOT_EQUAL;
        } catch (SQLException | IllegalArgumentException e) {
            err.println("Cannot compare: " + e.getMessage());
            return CANNOT_COMPARE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CANNOT_COMPARE;
        }
    }

    /** Compares until all tables are equal or {@code wait} has passed; the last report. */
    private static Report untilEqual(ReplicaComparison comparison, Duration wait, PrintStream out)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        for (int attempt = 1; ; attempt++) {
            Report report = comparison.run();
            if (report.allEqual() || System.nanoTime() + BETWEEN_ATTEMPTS.toNanos() > deadline) {
                return report;
            }
            out.println("attempt " + attempt + ": " + report.summary() + (report.lag() == null ? "" : "; " + report.lag().line())
                    + "; comparing again");
            Thread.sleep(BETWEEN_ATTEMPTS.toMillis());
        }
    }

    /** As the source connector reads table.include.list: comma-separated regexes, each matching all of 'schema.table'. */
    static Predicate<TableName> tableFilter(String list) {
        List<Pattern> patterns = new ArrayList<>();
        for (String regex : list.split(",")) {
            try {
                patterns.add(Pattern.compile(regex.trim()));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("--tables: " + regex + " is not a valid regular expression: "
                        + e.getDescription());
            }
        }
        return table -> patterns.stream().anyMatch(p -> p.matcher(table.toString()).matches());
    }

    /** HOST:PORT/DB, without the URL's credentials. */
    private static String where(String jdbcUrl) {
        Properties url = Driver.parseURL(jdbcUrl, new Properties());
        if (url == null) {
            throw new IllegalArgumentException("Not a PostgreSQL JDBC URL: " + jdbcUrl
                    + " (expected jdbc:postgresql://HOST:PORT/DATABASE?user=USER&password=PASSWORD)");
        }
        return url.getProperty("PGHOST") + ":" + url.getProperty("PGPORT") + "/" + url.getProperty("PGDBNAME");
    }
}
