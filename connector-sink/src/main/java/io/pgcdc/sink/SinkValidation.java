package io.pgcdc.sink;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.postgresql.Driver;
import org.postgresql.PGProperty;

import io.pgcdc.sink.SinkConfig.DeleteMode;
import io.pgcdc.sink.SinkConfig.GuardMode;

/**
 * What would stop the sink, found by asking the target database without changing anything: for
 * the REST API's validation, which reports each problem on the setting it concerns. Tables are
 * known only for the topics {@code topics} lists: with {@code topics.regex} they are not checked.
 * A format that takes names from the records' {@code source} block only lets the topic's last two
 * segments stand in for them: such a guessed table is checked when it exists, but its absence is no
 * error (topics renamed by a router, or one topic for many tables, name no table).
 */
final class SinkValidation {

    /** Column mode orders versions by these types, in SQL and in {@link GuardValue} alike. */
    private static final Set<String> ORDERED_GUARD_TYPES = Set.of("int2", "int4", "int8", "numeric", "float4", "float8",
            "date", "timestamp", "timestamptz");
    /** A source position is an LSN below 2^63: a numeric with fewer integer digits overflows. */
    private static final int POSITION_DIGITS = String.valueOf(Long.MAX_VALUE).length();
    private static final Pattern NUMERIC_TYPMOD = Pattern.compile("numeric\\((\\d+)(?:,(\\d+))?\\)");

    private static final String PRIVILEGES = "SELECT has_table_privilege(c.oid, 'SELECT'), has_table_privilege(c.oid, 'INSERT'), "
            + "has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'DELETE') "
            + "FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(?)";

    /** A misconfiguration and the setting it belongs to. */
    record Problem(String setting, String message) { }

    private final SinkConfig config;
    private final List<String> topics;

    /** @param topics the topics {@code topics} lists (none with {@code topics.regex}) */
    SinkValidation(SinkConfig config, List<String> topics) {
        this.config = config;
        this.topics = topics;
    }

    List<Problem> problems() {
        List<Problem> problems = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(config.connectionUrl(), config.connectionProperties())) {
            for (Map.Entry<TableRef, String> target : targets().entrySet()) {
                checkTable(connection, target.getKey(), target.getValue(), problems);
            }
            String ledger = ledgerProblem(connection);
            if (ledger != null) {
                problems.add(new Problem(SinkConfig.DELETE_LEDGER_TABLE_CONFIG, ledger));
            }
        } catch (SQLException e) {
            problems.add(new Problem(SinkConfig.CONNECTION_URL_CONFIG, "Cannot connect to PostgreSQL at " + where()
                    + ": " + e.getMessage()));
        }
        return problems;
    }

    /** Each target table once, with the first topic that writes to it. */
    private Map<TableRef, String> targets() {
        TableNames names = new TableNames(config.tableNameFormat());
        Map<TableRef, String> targets = new LinkedHashMap<>();
        for (String topic : topics) {
            targets.putIfAbsent(names.resolve(topic, null), topic);
        }
        return targets;
    }

    private void checkTable(Connection connection, TableRef ref, String topic, List<Problem> problems) throws SQLException {
        String table = "Target table " + ref + " (topic \"" + topic + "\")";
        TargetTable target = TargetCatalog.describe(connection, ref);
        if (target == null) {
            if (!config.autoCreate() && !config.tableNameFormat().contains("${source.")) {
                problems.add(new Problem(SinkConfig.TABLE_NAME_FORMAT_CONFIG, table + " does not exist: create it, "
                        + "set auto.create=true, or change table.name.format"));
            }
            return;
        }
        if (target.keyColumns().isEmpty()) {
            problems.add(new Problem(SinkConfig.TABLE_NAME_FORMAT_CONFIG, table + " has no primary key or unique index "
                    + "(neither partial nor on expressions) to upsert on: add one on the key columns"));
        }
        String guard = guardProblem(target);
        if (guard != null) {
            problems.add(new Problem(SinkConfig.GUARD_COLUMN_CONFIG, table + guard));
        }
        String position = positionProblem(target);
        if (position != null) {
            problems.add(new Problem(SinkConfig.POSITION_COLUMN_CONFIG, table + position));
        }
        String zone = zoneProblem(target);
        if (zone != null) {
            problems.add(new Problem(SinkConfig.GUARD_TIMEZONE_CONFIG, table + zone));
        }
        if (config.deleteMode() == DeleteMode.SOFT && !target.columns().containsKey(config.softDeleteColumn())) {
            problems.add(new Problem(SinkConfig.DELETE_SOFT_COLUMN_CONFIG, table + " has no column \""
                    + config.softDeleteColumn() + "\" for soft deletes: add it (timestamptz or boolean) or change "
                    + "delete.soft.column"));
        }
        List<String> missing = missingPrivileges(connection, ref, config.deleteMode() == DeleteMode.DELETE);
        if (missing != null && !missing.isEmpty()) {
            problems.add(new Problem(SinkConfig.CONNECTION_USERNAME_CONFIG, lacks(missing, "", ref)));
        }
    }

    /** What is wrong with the table's guard column, as the end of a sentence about the table; null when fine. */
    private String guardProblem(TargetTable target) {
        GuardMode mode = config.guardMode();
        String name = config.guardColumn();
        TargetTable.Column column = target.columns().get(name);
        if (mode == GuardMode.NONE || (column == null && mode == GuardMode.COLUMN && config.autoEvolve())) {
            return null; // auto.evolve adds the guard column when the records bring it
        }
        if (column == null) {
            return " has no guard column \"" + name + "\": add it, change upsert.guard.column, or set upsert.guard.mode=none";
        }
        return guardTypeProblem(mode, column);
    }

    /**
     * What is wrong with the table's position column (column mode), as the end of a sentence about the table; null
     * when fine. A table without one gives up ordering equal guard values and guarding deletes by position: the
     * user must say so by leaving the setting empty.
     */
    private String positionProblem(TargetTable target) {
        String name = config.positionColumn();
        if (name == null) {
            return null;
        }
        TargetTable.Column column = target.columns().get(name);
        if (column == null) {
            return config.autoEvolve() ? null : " has no column \"" + name + "\" for source positions: add it (ALTER TABLE "
                    + target.ref().quoted() + " ADD COLUMN " + PgDialect.quote(name) + " bigint), or set "
                    + SinkConfig.POSITION_COLUMN_CONFIG + " empty and give up: a later change with the same "
                    + config.guardColumn() + " as the stored row (a second update in one transaction, an update that leaves "
                    + config.guardColumn() + " alone) would be refused as a replay, and deletes guarded by comparing "
                    + config.guardColumn() + " with their commit time";
        }
        return holdsPositions(column) ? null : " has position column \"" + name + "\" of type " + column.sqlType()
                + ", which cannot hold source positions: make it bigint";
    }

    /** A zone-less timestamp guard that deletes compare with their commit time needs its zone; null when fine. */
    private String zoneProblem(TargetTable target) {
        TargetTable.Column column = target.columns().get(config.guardColumn());
        if (config.guardMode() != GuardMode.COLUMN || config.deleteMode() == DeleteMode.IGNORE || column == null
                || !column.typeName().equals("timestamp") || config.guardTimeZone() != null) {
            return null;
        }
        return " has guard column \"" + column.name() + "\" of type timestamp without time zone: deletes compare it with "
                + "their commit time, so set " + SinkConfig.GUARD_TIMEZONE_CONFIG + " to the zone its values are written "
                + "in (UTC if they are UTC); read as UTC, a row deleted within its zone's offset of its last update "
                + "would be kept";
    }

    /**
     * The table of deleted keys must be there with the privileges the sink needs (purging deletes from it), or the
     * user must be able to create it; null when fine.
     */
    private String ledgerProblem(Connection connection) throws SQLException {
        TableRef ledger = config.deleteLedger();
        if (ledger == null) {
            return null;
        }
        List<String> lacking = missingPrivileges(connection, ledger, true); // purging deletes from it
        if (lacking != null) {
            return lacking.isEmpty() ? null : lacks(lacking, "the table of deleted keys ", ledger);
        }
        String missing;
        try (PreparedStatement ps = connection.prepareStatement("SELECT has_schema_privilege(n.oid, 'CREATE') "
                + "FROM pg_catalog.pg_namespace n WHERE n.nspname = ?")) {
            ps.setString(1, ledger.schema());
            try (ResultSet rs = ps.executeQuery()) {
                missing = !rs.next() ? "schema \"" + ledger.schema() + "\" does not exist"
                        : rs.getBoolean(1) ? null : "user \"" + user() + "\" may not create tables in schema \""
                        + ledger.schema() + "\"";
            }
        }
        return missing == null ? null : "The table of deleted keys " + ledger + " does not exist and the sink cannot create "
                + "it (" + missing + "): create it (" + String.join("; ", PgDialect.createLedger(ledger)) + ") and grant "
                + "the user SELECT, INSERT, UPDATE, DELETE on it, or set " + SinkConfig.DELETE_LEDGER_TABLE_CONFIG
                + " empty and give up: an older version of a deleted row arriving after the delete brings the row back";
    }

    /** Why a column cannot hold the guard in this mode, or null. */
    static String guardTypeProblem(GuardMode mode, TargetTable.Column column) {
        String described = " has guard column \"" + column.name() + "\" of type " + column.sqlType();
        if (mode == GuardMode.SOURCE_LSN) {
            return holdsPositions(column) ? null : described + ", which cannot hold source positions "
                    + "(upsert.guard.mode=source_lsn): make it bigint";
        }
        return ORDERED_GUARD_TYPES.contains(column.typeName()) ? null : described + ", which cannot tell which version "
                + "of a row is newer: use a number, date or timestamp column, or upsert.guard.mode=source_lsn";
    }

    /** A bigint, or a numeric with room for any bigint. */
    private static boolean holdsPositions(TargetTable.Column column) {
        if (column.typeName().equals("int8")) {
            return true;
        }
        if (!column.typeName().equals("numeric")) {
            return false;
        }
        Matcher typmod = NUMERIC_TYPMOD.matcher(column.sqlType());
        if (!typmod.matches()) {
            return true; // numeric without precision: any size
        }
        int scale = typmod.group(2) == null ? 0 : Integer.parseInt(typmod.group(2));
        return Integer.parseInt(typmod.group(1)) - scale >= POSITION_DIGITS;
    }

    /**
     * The privileges the sink needs on the table (DELETE only for {@code deletes}) that the user lacks; null when
     * there is no such table.
     */
    private static List<String> missingPrivileges(Connection connection, TableRef ref, boolean deletes)
            throws SQLException {
        List<String> missing = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(PRIVILEGES)) {
            ps.setString(1, ref.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                // An upsert reads the stored row (guard, RETURNING) and may update it.
                addUnless(missing, rs.getBoolean(1), "SELECT");
                addUnless(missing, rs.getBoolean(2), "INSERT");
                addUnless(missing, rs.getBoolean(3), "UPDATE");
                addUnless(missing, rs.getBoolean(4) || !deletes, "DELETE");
            }
        }
        return missing;
    }

    /** "User u lacks P on {what}t (GRANT P ON t TO u)". */
    private String lacks(List<String> privileges, String what, TableRef table) {
        String list = String.join(", ", privileges);
        return "User \"" + user() + "\" lacks " + list + " on " + what + table + " (GRANT " + list + " ON "
                + table.quoted() + " TO " + PgDialect.quote(user()) + ")";
    }

    private static void addUnless(List<String> missing, boolean granted, String privilege) {
        if (!granted) {
            missing.add(privilege);
        }
    }

    private Properties url() {
        Properties parsed = Driver.parseURL(config.connectionUrl(), null);
        return parsed == null ? new Properties() : parsed;
    }

    private String user() {
        String user = PGProperty.USER.getOrDefault(config.connectionProperties());
        return user != null ? user : url().getProperty(PGProperty.USER.getName(), System.getProperty("user.name"));
    }

    private String where() {
        Properties url = url();
        return url.getProperty(PGProperty.PG_HOST.getName()) + ":" + url.getProperty(PGProperty.PG_PORT.getName())
                + ", database \"" + url.getProperty(PGProperty.PG_DBNAME.getName()) + "\", as user \"" + user() + "\"";
    }
}
