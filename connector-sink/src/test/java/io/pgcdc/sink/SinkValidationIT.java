package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.connect.runtime.rest.errors.ConnectRestException;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.PostgresServer;

/**
 * PUT /connector-plugins/PgSinkConnector/config/validate against a real PostgreSQL: each misconfiguration
 * lands on its setting with a message naming what is wrong, and Connect refuses to create such a connector.
 */
@Tag("compat")
class SinkValidationIT {

    private static final String DB = SinkTestBed.DB;
    private static SinkTestBed bed;
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink-validation");
        pg = bed.pg;
        connect = bed.connect;
        pg.execute(DB,
                "CREATE TABLE fine (id bigint PRIMARY KEY, v text, updated_at timestamptz, deleted_at timestamptz, "
                        + "pgcdc_position numeric)",
                "CREATE TABLE by_unique (id bigint NOT NULL UNIQUE, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE TABLE unkeyed (id bigint, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE TABLE partly_keyed (id bigint, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE UNIQUE INDEX ON partly_keyed (id) WHERE id > 0",
                "CREATE TABLE unguarded (id bigint PRIMARY KEY, v text, pgcdc_position numeric)",
                "CREATE TABLE text_guard (id bigint PRIMARY KEY, updated_at text, pgcdc_position numeric)",
                "CREATE TABLE positioned (id bigint PRIMARY KEY, pos integer)",
                "CREATE TABLE unpositioned (id bigint PRIMARY KEY, updated_at timestamptz)",
                "CREATE TABLE short_position (id bigint PRIMARY KEY, updated_at timestamptz, pgcdc_position integer)",
                "CREATE TABLE local_time (id bigint PRIMARY KEY, updated_at timestamp, pgcdc_position numeric)",
                "CREATE ROLE reader LOGIN",
                "GRANT SELECT ON fine TO reader",
                "CREATE ROLE writer LOGIN",
                "GRANT SELECT, INSERT, UPDATE ON fine TO writer",
                "CREATE ROLE no_create LOGIN",
                // As from PostgreSQL 15 on every version: only the owner creates in schema public.
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON fine TO no_create");
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    private static Map<String, String> config(String topics) {
        Map<String, String> config = new HashMap<>();
        config.put("name", "validated");
        config.put("connector.class", PgSinkConnector.class.getName());
        config.put("tasks.max", "1");
        config.put("topics", topics);
        config.put("connection.url", pg.jdbcUrl(DB));
        config.put("connection.username", "postgres");
        return config;
    }

    private static Map<String, String> with(Map<String, String> config, String... keyValues) {
        Map<String, String> changed = new HashMap<>(config);
        for (int i = 0; i < keyValues.length; i += 2) {
            changed.put(keyValues[i], keyValues[i + 1]);
        }
        return changed;
    }

    /** Errors by setting, as the REST API returns them. */
    private static Map<String, List<String>> errors(Map<String, String> config) {
        Map<String, List<String>> errors = new TreeMap<>();
        connect.validateConnectorConfig(PgSinkConnector.class.getSimpleName(), config).configs().forEach(info -> {
            if (!info.configValue().errors().isEmpty()) {
                errors.put(info.configValue().name(), info.configValue().errors());
            }
        });
        return errors;
    }

    /** The only error, which must be on {@code setting}. */
    private static String onlyError(Map<String, String> config, String setting) {
        Map<String, List<String>> errors = errors(config);
        assertEquals(List.of(setting), List.copyOf(errors.keySet()), "errors: " + errors);
        assertEquals(1, errors.get(setting).size(), "errors: " + errors);
        return errors.get(setting).get(0);
    }

    private static void assertContains(String expected, String actual) {
        assertTrue(actual.contains(expected), "expected '" + expected + "' in: " + actual);
    }

    @Test
    void aWorkableConfigurationHasNoErrors() {
        assertEquals(Map.of(), errors(config("fine, by_unique")));
        assertEquals(Map.of(), errors(with(config("fine"), "delete.mode", "soft")));
        assertEquals(Map.of(), errors(with(config("fine"), "connection.username", "writer", "delete.mode", "ignore")));
        assertEquals(Map.of(), errors(with(config("olap.public.fine"), "table.name.format", "${source.table}")));
    }

    @Test
    void unreachableDatabaseIsReportedOnTheUrlWithHostAndReason() {
        String error = onlyError(with(config("fine"), "connection.url", "jdbc:postgresql://127.0.0.1:1/" + DB),
                "connection.url");
        assertContains("Cannot connect to PostgreSQL at 127.0.0.1:1, database \"olap\", as user \"postgres\": ", error);
        assertContains("Connection to 127.0.0.1:1 refused", error);

        String noDatabase = onlyError(with(config("fine"), "connection.url", pg.jdbcUrl("nowhere")), "connection.url");
        assertContains("database \"nowhere\"", noDatabase);
        assertContains("database \"nowhere\" does not exist", noDatabase);
    }

    @Test
    void missingTableIsReportedUnlessAutoCreateMakesIt() {
        Map<String, String> byTopic = with(config("fine,absent"), "table.name.format", "public.${topic}");
        String error = onlyError(byTopic, "table.name.format");
        assertContains("Target table public.absent (topic \"absent\") does not exist", error);
        assertContains("auto.create=true", error);
        assertEquals(Map.of(), errors(with(byTopic, "auto.create", "true")));
        assertEquals(Map.of(), errors(config("fine,absent")),
                "with the default format the records name the table: a topic that names none is no error");
        assertEquals(Map.of(), errors(with(config("fine"), "topics", "", "topics.regex", "absent.*")),
                "with topics.regex the tables are not known in advance");
    }

    @Test
    void tableWithoutUsableConflictKeyIsReported() {
        assertContains("Target table public.unkeyed (topic \"unkeyed\") has no primary key or unique index",
                onlyError(config("unkeyed"), "table.name.format"));
        assertContains("public.partly_keyed (topic \"partly_keyed\") has no primary key or unique index",
                onlyError(config("partly_keyed"), "table.name.format"));
    }

    @Test
    void guardColumnMustExistAndOrderVersions() {
        String missing = onlyError(config("unguarded"), "upsert.guard.column");
        assertContains("Target table public.unguarded (topic \"unguarded\") has no guard column \"updated_at\"", missing);
        assertEquals(Map.of(), errors(with(config("unguarded"), "upsert.guard.mode", "none")));
        assertEquals(Map.of(), errors(with(config("unguarded"), "auto.evolve", "true")),
                "auto.evolve adds the guard column when the records bring it");

        assertContains("has guard column \"updated_at\" of type text, which cannot tell which version",
                onlyError(config("text_guard"), "upsert.guard.column"));
        assertContains("has guard column \"pos\" of type integer, which cannot hold source positions",
                onlyError(with(config("positioned"), "upsert.guard.mode", "source_lsn", "upsert.guard.column", "pos"),
                        "upsert.guard.column"));
    }

    @Test
    void aTableWithoutAPositionColumnIsRefusedUnlessTheUserGivesItUp() {
        String missing = onlyError(config("unpositioned"), "upsert.position.column");
        assertContains("Target table public.unpositioned (topic \"unpositioned\") has no column \"pgcdc_position\" for "
                + "source positions: add it (ALTER TABLE \"public\".\"unpositioned\" ADD COLUMN \"pgcdc_position\" bigint)",
                missing);
        assertContains("a later change with the same updated_at as the stored row", missing);
        assertEquals(Map.of(), errors(with(config("unpositioned"), "upsert.position.column", "")));
        assertEquals(Map.of(), errors(with(config("unpositioned"), "auto.evolve", "true")), "auto.evolve adds it");
        assertEquals(Map.of(), errors(with(config("unpositioned"), "upsert.guard.mode", "none")));
        assertContains("has position column \"pgcdc_position\" of type integer, which cannot hold source positions",
                onlyError(config("short_position"), "upsert.position.column"));
    }

    @Test
    void aZoneLessGuardColumnNeedsTheZoneItsValuesAreWrittenIn() {
        String error = onlyError(config("local_time"), "upsert.guard.timezone");
        assertContains("has guard column \"updated_at\" of type timestamp without time zone: deletes compare it", error);
        assertEquals(Map.of(), errors(with(config("local_time"), "upsert.guard.timezone", "Europe/Berlin")));
        assertEquals(Map.of(), errors(with(config("local_time"), "delete.mode", "ignore")));
        assertContains("is an offset, not a zone name", onlyError(with(config("local_time"), "upsert.guard.timezone",
                "+02:00"), "upsert.guard.timezone"));
        assertContains("is not a time zone", onlyError(with(config("local_time"), "upsert.guard.timezone",
                "Mars/Olympus"), "upsert.guard.timezone"));
    }

    @Test
    void softDeleteColumnMustExist() {
        String error = onlyError(with(config("fine"), "delete.mode", "soft", "delete.soft.column", "removed"),
                "delete.soft.column");
        assertContains("Target table public.fine (topic \"fine\") has no column \"removed\" for soft deletes", error);
    }

    @Test
    void missingPrivilegesAreNamedOnTheUser() {
        String reader = onlyError(with(config("fine"), "connection.username", "reader", "delete.ledger.table", ""),
                "connection.username");
        assertContains("User \"reader\" lacks INSERT, UPDATE, DELETE on public.fine", reader);
        String writer = onlyError(with(config("fine"), "connection.username", "writer", "delete.ledger.table", ""),
                "connection.username");
        assertContains("User \"writer\" lacks DELETE on public.fine", writer);
    }

    @Test
    void theTableOfDeletedKeysMustBeWritableOrCreatable() throws Exception {
        Map<String, String> noCreate = with(config("fine"), "connection.username", "no_create", "delete.ledger.table",
                "public.keys_gone");
        String cannot = onlyError(noCreate, "delete.ledger.table");
        assertContains("The table of deleted keys public.keys_gone does not exist and the sink cannot create it (user "
                + "\"no_create\" may not create tables in schema \"public\"): create it (CREATE TABLE IF NOT EXISTS", cannot);
        assertContains("or set delete.ledger.table empty and give up", cannot);
        assertContains("schema \"nowhere\" does not exist", onlyError(with(noCreate, "delete.ledger.table", "nowhere.keys"),
                "delete.ledger.table"));
        assertEquals(Map.of(), errors(with(noCreate, "delete.mode", "soft", "delete.soft.column", "deleted_at")),
                "soft deletes keep the key in the table itself");

        pg.execute(DB, "CREATE TABLE keys_gone (target text, key text, position numeric, deleted_at timestamptz, "
                + "PRIMARY KEY (target, key))", "GRANT SELECT, INSERT ON keys_gone TO no_create");
        assertContains("User \"no_create\" lacks UPDATE, DELETE on the table of deleted keys public.keys_gone",
                onlyError(noCreate, "delete.ledger.table"));
        pg.execute(DB, "GRANT UPDATE, DELETE ON keys_gone TO no_create");
        assertEquals(Map.of(), errors(noCreate));
    }

    @Test
    void badSettingValuesAreReportedWithoutAskingTheDatabase() {
        assertEquals(List.of("upsert.guard.mode"), List.copyOf(errors(with(config("absent"), "upsert.guard.mode", "newest"))
                .keySet()), "the missing table is not looked for while a setting is invalid");
    }

    @Test
    void connectRefusesToCreateAConnectorThatDoesNotValidate() {
        ConnectRestException refused = assertThrows(ConnectRestException.class,
                () -> connect.configureConnector("refused", with(config("unkeyed"), "name", "refused")));
        assertEquals(400, refused.statusCode());
        assertContains("has no primary key or unique index", refused.getMessage());
        assertFalse(connect.connectors().contains("refused"));
    }
}
