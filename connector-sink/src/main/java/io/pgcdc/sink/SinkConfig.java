package io.pgcdc.sink;

import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.postgresql.PGProperty;

/** Configuration of the sink connector. Names follow the JDBC sinks where the meaning is the same. */
public final class SinkConfig extends AbstractConfig {

    private static final String GROUP_CONNECTION = "Connection";
    private static final String GROUP_WRITES = "Writes";
    private static final String GROUP_TABLES = "Tables";
    private static final String GROUP_RETRIES = "Retries";

    public static final String CONNECTION_URL_CONFIG = "connection.url";
    private static final String CONNECTION_URL_DOC = "JDBC URL of the target PostgreSQL database, e.g. jdbc:postgresql://olap:5432/analytics.";

    public static final String CONNECTION_USERNAME_CONFIG = "connection.username";
    private static final String CONNECTION_USERNAME_DOC = "User to connect as: needs INSERT, UPDATE, DELETE and SELECT on the target tables.";

    public static final String CONNECTION_PASSWORD_CONFIG = "connection.password";
    private static final String CONNECTION_PASSWORD_DOC = "Password of the user. Masked in REST responses and logs; "
            + "use a config provider (${file:...}) to keep it out of the connector config.";

    public static final String TABLE_NAME_FORMAT_CONFIG = "table.name.format";
    private static final String TABLE_NAME_FORMAT_DOC = "Target table as 'schema.table' (or 'table', in public), with placeholders "
            + "${topic}, ${source.schema} and ${source.table}. The source placeholders come from the record's source block; "
            + "without one they are the topic's last two dot-separated segments. The format's own first dot separates "
            + "schema from table, so names with dots stay whole.";
    public static final String TABLE_NAME_FORMAT_DEFAULT = "${source.schema}.${source.table}";

    public static final String GUARD_COLUMN_CONFIG = "upsert.guard.column";
    private static final String GUARD_COLUMN_DOC = "The column whose value decides which version of a row is newer: "
            + "the record's value for it (mode 'column') or the record's source position (mode 'source_lsn').";
    public static final String GUARD_COLUMN_DEFAULT = "updated_at";

    public static final String GUARD_MODE_CONFIG = "upsert.guard.mode";
    private static final String GUARD_MODE_DOC = "'column': an upsert or delete applies only if the stored row's guard column is "
            + "older (replays and late arrivals are no-ops); 'source_lsn': the guard column (bigint) holds the source "
            + "position (the WAL position, source.lsn) of the change that wrote the row, set by the sink (for tables without an updated_at); 'none': last "
            + "write wins. In 'column' mode versions with the same guard value are ordered by source position when the "
            + "table has upsert.position.column (else the later one is taken for a replay), and deletes are guarded by "
            + "position, or by commit time when the guard column is a timestamp or timestamptz.";
    public static final String GUARD_MODE_DEFAULT = "column";

    public static final String POSITION_COLUMN_CONFIG = "upsert.position.column";
    private static final String POSITION_COLUMN_DOC = "In 'column' mode: a bigint column in which the sink keeps the "
            + "source position (the WAL position, source.lsn) of the change that wrote each row; a snapshot's rows have none. Versions with equal guard values are then ordered by "
            + "position (two updates in one transaction share now(); an update may leave the guard alone), and deletes are "
            + "guarded by position rather than by comparing the guard column with their commit time. auto.create and "
            + "auto.evolve add it. Empty: tables without it, where a later version with the same guard value is refused "
            + "as a replay and deletes are guarded by commit time.";
    public static final String POSITION_COLUMN_DEFAULT = "pgcdc_position";

    public static final String GUARD_TIMEZONE_CONFIG = "upsert.guard.timezone";
    private static final String GUARD_TIMEZONE_DOC = "The time zone in which the values of a guard column of type "
            + "'timestamp' (without time zone) are written, e.g. 'Europe/Berlin' or 'UTC'. A delete that cannot be guarded "
            + "by source position compares the guard column with its commit time, which needs the zone: validation refuses "
            + "such a column in 'column' mode with deletes applied unless this is set.";

    public static final String DELETE_MODE_CONFIG = "delete.mode";
    private static final String DELETE_MODE_DOC = "'delete' removes the row, 'soft' sets delete.soft.column, 'ignore' skips deletes.";
    public static final String DELETE_MODE_DEFAULT = "delete";

    public static final String DELETE_SOFT_COLUMN_CONFIG = "delete.soft.column";
    private static final String DELETE_SOFT_COLUMN_DOC = "With delete.mode=soft: the column a delete sets, to true for a boolean "
            + "column, else to the delete's commit time. An upsert clears it; a row inserted and deleted in one batch is "
            + "written, then flagged.";
    public static final String DELETE_SOFT_COLUMN_DEFAULT = "deleted_at";

    public static final String DELETE_LEDGER_TABLE_CONFIG = "delete.ledger.table";
    private static final String DELETE_LEDGER_TABLE_DOC = "With delete.mode=delete: the table ('schema.table', or 'table' "
            + "in public) where the sink remembers each hard-deleted key with the delete's source position, so that an "
            + "older version of the row arriving later (a replay from another partition, a re-snapshot) does not bring it "
            + "back. One table for all target tables of the database; the sink creates it if missing. Needs a source "
            + "position on the rows (upsert.position.column, or upsert.guard.mode=source_lsn). Empty: no ledger.";
    public static final String DELETE_LEDGER_TABLE_DEFAULT = "pgcdc_deleted_keys";

    public static final String DELETE_LEDGER_RETENTION_CONFIG = "delete.ledger.retention.ms";
    private static final String DELETE_LEDGER_RETENTION_DOC = "How long a deleted key stays in delete.ledger.table. An "
            + "older version of the row arriving later than this brings it back. The default matches Kafka's default "
            + "retention: a replay from a topic cannot be older.";
    public static final long DELETE_LEDGER_RETENTION_DEFAULT = 7L * 24 * 60 * 60 * 1000;

    public static final String BATCH_MAX_ROWS_CONFIG = "batch.max.rows";
    private static final String BATCH_MAX_ROWS_DOC = "Most rows bound into one statement; larger groups, and groups whose values "
            + "pass about 8 MiB (large documents or text), are written in several statements of the same transaction.";
    public static final int BATCH_MAX_ROWS_DEFAULT = 10_000;

    public static final String FIELDS_INCLUDE_LIST_CONFIG = "fields.include.list";
    private static final String FIELDS_INCLUDE_LIST_DOC = "Columns to write (empty: all the target has).";

    public static final String FIELDS_EXCLUDE_LIST_CONFIG = "fields.exclude.list";
    private static final String FIELDS_EXCLUDE_LIST_DOC = "Columns never written.";

    public static final String MISSING_COLUMNS_MODE_CONFIG = "fields.missing.mode";
    private static final String MISSING_COLUMNS_MODE_DOC = "What to do with record fields the target table lacks: 'ignore' "
            + "(logged once per table) or 'fail'.";
    public static final String MISSING_COLUMNS_MODE_DEFAULT = "ignore";

    public static final String AUTO_CREATE_CONFIG = "auto.create";
    private static final String AUTO_CREATE_DOC = "Create a missing target table from the first record of a batch that "
            + "writes to it: a column per field of the row, typed by the field's schema (see the type table in docs/sink.md; "
            + "fields the field lists leave out get none), the fields of the record's Struct key as primary key, plus the guard column (bigint) with "
            + "upsert.guard.mode=source_lsn and the soft-delete column (timestamptz) with delete.mode=soft when the row "
            + "lacks them. A record without a schema or without a Struct key cannot create a table and is rejected.";
    public static final boolean AUTO_CREATE_DEFAULT = false;

    public static final String AUTO_EVOLVE_CONFIG = "auto.evolve";
    private static final String AUTO_EVOLVE_DOC = "Before writing, add the fields a record's schema has and the target "
            + "table lacks as nullable columns (ADD COLUMN IF NOT EXISTS). Existing columns are never dropped or altered. "
            + "A record without a schema that brings such fields is rejected.";
    public static final boolean AUTO_EVOLVE_DEFAULT = false;

    public static final String MAX_RETRIES_CONFIG = "max.retries";
    private static final String MAX_RETRIES_DOC = "How often a batch is retried after a lost connection before the task fails.";
    public static final int MAX_RETRIES_DEFAULT = 10;

    public static final String RETRY_BACKOFF_CONFIG = "retry.backoff.ms";
    private static final String RETRY_BACKOFF_DOC = "Wait before the first retry; doubles with each retry, up to 30 s.";
    public static final int RETRY_BACKOFF_DEFAULT = 500;

    public static final ConfigDef CONFIG_DEF = configDef();

    public enum GuardMode { COLUMN, SOURCE_LSN, NONE }

    public enum DeleteMode { DELETE, SOFT, IGNORE }

    private final Set<String> includedFields;
    private final Set<String> excludedFields;

    public SinkConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
        includedFields = names(FIELDS_INCLUDE_LIST_CONFIG);
        excludedFields = names(FIELDS_EXCLUDE_LIST_CONFIG);
    }

    private static ConfigDef configDef() {
        int order = 0;
        ConfigDef def = new ConfigDef()
                .define(CONNECTION_URL_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new UrlValidator(), Importance.HIGH,
                        CONNECTION_URL_DOC, GROUP_CONNECTION, ++order, Width.LONG, "JDBC URL")
                .define(CONNECTION_USERNAME_CONFIG, Type.STRING, null, Importance.HIGH,
                        CONNECTION_USERNAME_DOC, GROUP_CONNECTION, ++order, Width.MEDIUM, "User")
                .define(CONNECTION_PASSWORD_CONFIG, Type.PASSWORD, null, Importance.HIGH,
                        CONNECTION_PASSWORD_DOC, GROUP_CONNECTION, ++order, Width.MEDIUM, "Password");
        order = 0;
        def.define(TABLE_NAME_FORMAT_CONFIG, Type.STRING, TABLE_NAME_FORMAT_DEFAULT, new ConfigDef.NonEmptyString(),
                        Importance.MEDIUM, TABLE_NAME_FORMAT_DOC, GROUP_WRITES, ++order, Width.LONG, "Table name format")
                .define(GUARD_COLUMN_CONFIG, Type.STRING, GUARD_COLUMN_DEFAULT, new ConfigDef.NonEmptyString(),
                        Importance.HIGH, GUARD_COLUMN_DOC, GROUP_WRITES, ++order, Width.MEDIUM, "Guard column")
                .define(GUARD_MODE_CONFIG, Type.STRING, GUARD_MODE_DEFAULT, enumValidator(GuardMode.values()),
                        Importance.HIGH, GUARD_MODE_DOC, GROUP_WRITES, ++order, Width.SHORT, "Guard mode")
                .define(POSITION_COLUMN_CONFIG, Type.STRING, POSITION_COLUMN_DEFAULT, Importance.MEDIUM,
                        POSITION_COLUMN_DOC, GROUP_WRITES, ++order, Width.MEDIUM, "Position column")
                .define(GUARD_TIMEZONE_CONFIG, Type.STRING, "", new ZoneValidator(), Importance.MEDIUM,
                        GUARD_TIMEZONE_DOC, GROUP_WRITES, ++order, Width.MEDIUM, "Guard time zone")
                .define(DELETE_MODE_CONFIG, Type.STRING, DELETE_MODE_DEFAULT, enumValidator(DeleteMode.values()),
                        Importance.MEDIUM, DELETE_MODE_DOC, GROUP_WRITES, ++order, Width.SHORT, "Delete mode")
                .define(DELETE_SOFT_COLUMN_CONFIG, Type.STRING, DELETE_SOFT_COLUMN_DEFAULT, new ConfigDef.NonEmptyString(),
                        Importance.LOW, DELETE_SOFT_COLUMN_DOC, GROUP_WRITES, ++order, Width.MEDIUM, "Soft delete column")
                .define(DELETE_LEDGER_TABLE_CONFIG, Type.STRING, DELETE_LEDGER_TABLE_DEFAULT, Importance.MEDIUM,
                        DELETE_LEDGER_TABLE_DOC, GROUP_WRITES, ++order, Width.MEDIUM, "Deleted keys ledger")
                .define(DELETE_LEDGER_RETENTION_CONFIG, Type.LONG, DELETE_LEDGER_RETENTION_DEFAULT,
                        ConfigDef.Range.atLeast(1), Importance.LOW, DELETE_LEDGER_RETENTION_DOC, GROUP_WRITES, ++order,
                        Width.SHORT, "Ledger retention")
                .define(BATCH_MAX_ROWS_CONFIG, Type.INT, BATCH_MAX_ROWS_DEFAULT, ConfigDef.Range.atLeast(1), Importance.MEDIUM,
                        BATCH_MAX_ROWS_DOC, GROUP_WRITES, ++order, Width.SHORT, "Rows per statement")
                .define(FIELDS_INCLUDE_LIST_CONFIG, Type.LIST, "", Importance.LOW, FIELDS_INCLUDE_LIST_DOC,
                        GROUP_WRITES, ++order, Width.LONG, "Include fields")
                .define(FIELDS_EXCLUDE_LIST_CONFIG, Type.LIST, "", Importance.LOW, FIELDS_EXCLUDE_LIST_DOC,
                        GROUP_WRITES, ++order, Width.LONG, "Exclude fields")
                .define(MISSING_COLUMNS_MODE_CONFIG, Type.STRING, MISSING_COLUMNS_MODE_DEFAULT,
                        ConfigDef.ValidString.in("ignore", "fail"), Importance.LOW, MISSING_COLUMNS_MODE_DOC,
                        GROUP_WRITES, ++order, Width.SHORT, "Missing columns");
        order = 0;
        def.define(AUTO_CREATE_CONFIG, Type.BOOLEAN, AUTO_CREATE_DEFAULT, Importance.MEDIUM, AUTO_CREATE_DOC,
                        GROUP_TABLES, ++order, Width.SHORT, "Create tables")
                .define(AUTO_EVOLVE_CONFIG, Type.BOOLEAN, AUTO_EVOLVE_DEFAULT, Importance.MEDIUM, AUTO_EVOLVE_DOC,
                        GROUP_TABLES, ++order, Width.SHORT, "Add columns");
        order = 0;
        def.define(MAX_RETRIES_CONFIG, Type.INT, MAX_RETRIES_DEFAULT, ConfigDef.Range.atLeast(0), Importance.LOW,
                        MAX_RETRIES_DOC, GROUP_RETRIES, ++order, Width.SHORT, "Max retries")
                .define(RETRY_BACKOFF_CONFIG, Type.INT, RETRY_BACKOFF_DEFAULT, ConfigDef.Range.atLeast(0), Importance.LOW,
                        RETRY_BACKOFF_DOC, GROUP_RETRIES, ++order, Width.SHORT, "Retry backoff");
        return def;
    }

    public String connectionUrl() {
        return getString(CONNECTION_URL_CONFIG);
    }

    /** Connection properties; the session works in UTC so that zone-less timestamps are read as written. */
    public Properties connectionProperties() {
        Properties props = new Properties();
        String user = getString(CONNECTION_USERNAME_CONFIG);
        if (user != null) {
            PGProperty.USER.set(props, user);
        }
        Password password = getPassword(CONNECTION_PASSWORD_CONFIG);
        if (password != null && !password.value().isEmpty()) {
            PGProperty.PASSWORD.set(props, password.value());
        }
        PGProperty.APPLICATION_NAME.set(props, "pgcdc-sink");
        PGProperty.OPTIONS.set(props, "-c TimeZone=UTC");
        return props;
    }

    public String tableNameFormat() {
        return getString(TABLE_NAME_FORMAT_CONFIG);
    }

    public String guardColumn() {
        return getString(GUARD_COLUMN_CONFIG);
    }

    public GuardMode guardMode() {
        return GuardMode.valueOf(getString(GUARD_MODE_CONFIG).toUpperCase(Locale.ROOT));
    }

    /** The column that keeps each row's source position in 'column' mode, or null when there is none. */
    public String positionColumn() {
        String column = getString(POSITION_COLUMN_CONFIG);
        return guardMode() != GuardMode.COLUMN || column == null || column.isBlank() ? null : column.trim();
    }

    /** The zone of a zone-less guard column's values, or null when not set. */
    public String guardTimeZone() {
        String zone = getString(GUARD_TIMEZONE_CONFIG);
        return zone == null || zone.isBlank() ? null : zone.trim();
    }

    public DeleteMode deleteMode() {
        return DeleteMode.valueOf(getString(DELETE_MODE_CONFIG).toUpperCase(Locale.ROOT));
    }

    /**
     * The table of deleted keys, or null when there is none: no hard deletes, no source positions kept in the
     * target tables to compare with (guard mode none, or column mode without a position column), or the setting
     * is empty.
     */
    public TableRef deleteLedger() {
        String table = getString(DELETE_LEDGER_TABLE_CONFIG);
        boolean positions = guardMode() == GuardMode.SOURCE_LSN || positionColumn() != null;
        return deleteMode() != DeleteMode.DELETE || !positions || table == null || table.isBlank()
                ? null : TableRef.parse(table.trim());
    }

    public long deleteLedgerRetentionMs() {
        return getLong(DELETE_LEDGER_RETENTION_CONFIG);
    }

    public String softDeleteColumn() {
        return getString(DELETE_SOFT_COLUMN_CONFIG);
    }

    public int batchMaxRows() {
        return getInt(BATCH_MAX_ROWS_CONFIG);
    }

    public boolean failOnMissingColumns() {
        return "fail".equals(getString(MISSING_COLUMNS_MODE_CONFIG));
    }

    public boolean autoCreate() {
        return getBoolean(AUTO_CREATE_CONFIG);
    }

    public boolean autoEvolve() {
        return getBoolean(AUTO_EVOLVE_CONFIG);
    }

    public int maxRetries() {
        return getInt(MAX_RETRIES_CONFIG);
    }

    public int retryBackoffMs() {
        return getInt(RETRY_BACKOFF_CONFIG);
    }

    /** Whether a column may be written, by the include and exclude lists. */
    public boolean writes(String column) {
        return (includedFields.isEmpty() || includedFields.contains(column)) && !excludedFields.contains(column);
    }

    private Set<String> names(String key) {
        List<String> values = getList(key);
        return values.stream().map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    private static ConfigDef.Validator enumValidator(Enum<?>[] values) {
        String[] names = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            names[i] = values[i].name().toLowerCase(Locale.ROOT);
        }
        return ConfigDef.ValidString.in(names);
    }

    private static final class ZoneValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || ((String) value).isBlank()) {
                return;
            }
            ZoneId zone;
            try {
                zone = ZoneId.of(((String) value).trim());
            } catch (DateTimeException e) {
                throw new ConfigException(name, value, "is not a time zone: " + e.getMessage() + " (use a region such "
                        + "as Europe/Berlin, or UTC)");
            }
            if (zone instanceof ZoneOffset) {
                // PostgreSQL reads a bare offset POSIX-style, east and west swapped: only names mean the same to both.
                throw new ConfigException(name, value, "is an offset, not a zone name: use a region such as "
                        + "Europe/Berlin, or UTC");
            }
        }

        @Override
        public String toString() {
            return "a time zone name such as UTC or Europe/Berlin, or empty";
        }
    }

    private static final class UrlValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !((String) value).startsWith("jdbc:postgresql:")) {
                throw new ConfigException(name, value, "must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
            }
        }

        @Override
        public String toString() {
            return "jdbc:postgresql://host:port/database";
        }
    }
}
