package io.pgcdc.source;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.postgresql.PGProperty;

/** Configuration of the source connector. Names follow Debezium's PostgreSQL connector where the meaning is the same. */
public final class SourceConfig extends AbstractConfig {

    private static final String GROUP_CONNECTION = "Connection";
    private static final String GROUP_REPLICATION = "Replication";
    private static final String GROUP_EVENTS = "Events";
    private static final String GROUP_PERFORMANCE = "Performance";
    private static final String GROUP_SNAPSHOT = "Snapshot";

    public static final String HOSTNAME_CONFIG = "database.hostname";
    private static final String HOSTNAME_DOC = "Host name or address of the PostgreSQL server.";

    public static final String PORT_CONFIG = "database.port";
    private static final String PORT_DOC = "Port of the PostgreSQL server.";
    public static final int PORT_DEFAULT = 5432;

    public static final String USER_CONFIG = "database.user";
    private static final String USER_DOC = "User to connect as. Needs the REPLICATION attribute and SELECT on the captured tables.";

    public static final String PASSWORD_CONFIG = "database.password";
    private static final String PASSWORD_DOC = "Password of the user. Masked in REST responses and logs; "
            + "use a config provider (${file:...}) to keep it out of the connector config.";

    public static final String DBNAME_CONFIG = "database.dbname";
    private static final String DBNAME_DOC = "Database to capture changes from.";

    public static final String SSLMODE_CONFIG = "database.sslmode";
    private static final String SSLMODE_DOC = "libpq-style sslmode: disable, allow, prefer, require, verify-ca or verify-full.";
    public static final String SSLMODE_DEFAULT = "prefer";

    public static final String SSLROOTCERT_CONFIG = "database.sslrootcert";
    private static final String SSLROOTCERT_DOC = "File of the CA certificate(s) (PEM) the server's certificate must chain to "
            + "with sslmode verify-ca or verify-full. Empty: pgjdbc's default, ~/.postgresql/root.crt of the worker's user.";

    public static final String SSLCERT_CONFIG = "database.sslcert";
    private static final String SSLCERT_DOC = "File of the client certificate (PEM) for certificate authentication. "
            + "Empty: pgjdbc's default, ~/.postgresql/postgresql.crt if it exists.";

    public static final String SSLKEY_CONFIG = "database.sslkey";
    private static final String SSLKEY_DOC = "File of the client certificate's key, unencrypted PKCS-8 DER "
            + "(openssl pkcs8 -topk8 -outform DER -nocrypt). Empty: pgjdbc's default, ~/.postgresql/postgresql.pk8.";

    public static final String SLOT_NAME_CONFIG = "slot.name";
    private static final String SLOT_NAME_DOC = "Logical replication slot to read (pgoutput). Created if missing.";
    public static final String SLOT_NAME_DEFAULT = "pgcdc";

    public static final String SLOT_FAILOVER_CONFIG = "slot.failover";
    private static final String SLOT_FAILOVER_DOC = "Make the slot a failover slot (PostgreSQL 17+): created, or switched "
            + "on when it exists, with failover = true, so that standbys running with sync_replication_slots = on keep "
            + "a copy of it, and after a promotion the connector resumes from the new primary. The primary's "
            + "synchronized_standby_slots must name those standbys' physical slots (validation checks it): otherwise "
            + "the slot can confirm changes a standby has not received yet.";
    public static final boolean SLOT_FAILOVER_DEFAULT = false;

    public static final String PUBLICATION_NAME_CONFIG = "publication.name";
    private static final String PUBLICATION_NAME_DOC = "Publication that selects the captured tables.";
    public static final String PUBLICATION_NAME_DEFAULT = "pgcdc_publication";

    public static final String PUBLICATION_AUTOCREATE_CONFIG = "publication.autocreate.mode";
    private static final String PUBLICATION_AUTOCREATE_DOC = "What to do when the publication does not exist: "
            + "'disabled' fails, 'all_tables' creates it FOR ALL TABLES (needs a superuser), "
            + "'filtered' creates it for the tables the include and exclude lists select now (and updates it at start).";
    public static final String PUBLICATION_AUTOCREATE_DEFAULT = "all_tables";

    public static final String TABLE_INCLUDE_LIST_CONFIG = "table.include.list";
    private static final String TABLE_INCLUDE_LIST_DOC = "Comma-separated regular expressions matched against whole 'schema.table' names; "
            + "only matching tables are captured. Empty: every table the publication covers.";

    public static final String TABLE_EXCLUDE_LIST_CONFIG = "table.exclude.list";
    private static final String TABLE_EXCLUDE_LIST_DOC = "Comma-separated regular expressions matched against whole 'schema.table' names; "
            + "matching tables are not captured.";

    public static final String STATUS_UPDATE_INTERVAL_CONFIG = "status.update.interval.ms";
    private static final String STATUS_UPDATE_INTERVAL_DOC = "How often the connector reports its position to the server, "
            + "also while it waits on a full queue, so the server's wal_sender_timeout never fires.";
    public static final int STATUS_UPDATE_INTERVAL_DEFAULT = 10_000;

    public static final String TOPIC_PREFIX_CONFIG = "topic.prefix";
    private static final String TOPIC_PREFIX_DOC = "Prefix of every topic name: changes go to '<prefix>.<schema>.<table>', "
            + "transaction markers to '<prefix>.transaction'.";

    public static final String TOMBSTONES_ON_DELETE_CONFIG = "tombstones.on.delete";
    private static final String TOMBSTONES_ON_DELETE_DOC = "Follow each delete event with a tombstone (same key, null value) for log compaction.";
    public static final boolean TOMBSTONES_ON_DELETE_DEFAULT = true;

    public static final String PROVIDE_TRANSACTION_METADATA_CONFIG = "provide.transaction.metadata";
    private static final String PROVIDE_TRANSACTION_METADATA_DOC = "Write BEGIN and END records to '<prefix>.transaction' "
            + "(END with the event count per table) and add a 'transaction' block to each change record.";
    public static final boolean PROVIDE_TRANSACTION_METADATA_DEFAULT = false;

    public static final String SKIPPED_OPERATIONS_CONFIG = "skipped.operations";
    private static final String SKIPPED_OPERATIONS_DOC = "Comma-separated operations not to emit: c (insert), u (update), d (delete), "
            + "t (truncate), or 'none'.";
    public static final String SKIPPED_OPERATIONS_DEFAULT = "t";

    public static final String DECIMAL_HANDLING_MODE_CONFIG = "decimal.handling.mode";
    private static final String DECIMAL_HANDLING_MODE_DOC = "How numeric values are emitted: 'precise' (Connect Decimal when the column "
            + "declares a scale, else the exact decimal text), 'double', or 'string'.";
    public static final String DECIMAL_HANDLING_MODE_DEFAULT = "precise";

    public static final String MAX_BATCH_SIZE_CONFIG = "max.batch.size";
    private static final String MAX_BATCH_SIZE_DOC = "Most records returned by one poll.";
    public static final int MAX_BATCH_SIZE_DEFAULT = 2048;

    public static final String MAX_QUEUE_SIZE_CONFIG = "max.queue.size";
    private static final String MAX_QUEUE_SIZE_DOC = "Most records held between the replication reader and Connect. "
            + "Bounds memory, whatever the size of a transaction.";
    public static final int MAX_QUEUE_SIZE_DEFAULT = 8192;

    public static final String MAX_QUEUE_SIZE_BYTES_CONFIG = "max.queue.size.in.bytes";
    private static final String MAX_QUEUE_SIZE_BYTES_DOC = "Most bytes of change data (as received) held in the queue.";
    public static final long MAX_QUEUE_SIZE_BYTES_DEFAULT = 64L * 1024 * 1024;

    public static final String POLL_INTERVAL_CONFIG = "poll.interval.ms";
    private static final String POLL_INTERVAL_DOC = "How long one poll waits for the first record.";
    public static final int POLL_INTERVAL_DEFAULT = 500;

    public static final String SNAPSHOT_MODE_CONFIG = "snapshot.mode";
    private static final String SNAPSHOT_MODE_DOC = "When to read the captured tables' existing rows (op 'r'): 'initial' when "
            + "Connect holds no offset for the slot, then stream; 'initial_only' the same, then stop; 'never'; 'when_needed' "
            + "also when the stored offset cannot be served any more (the slot was dropped or invalidated): a new slot and "
            + "a new snapshot instead of a failure. A snapshot is consistent with the stream: read under the new slot's "
            + "exported snapshot, and resumed after a restart from the last row Connect stored.";
    public static final String SNAPSHOT_MODE_DEFAULT = "initial";

    public static final String SNAPSHOT_FETCH_SIZE_CONFIG = "snapshot.fetch.size";
    private static final String SNAPSHOT_FETCH_SIZE_DOC = "Rows fetched from the server per round trip while reading a table; "
            + "memory holds at most this many rows besides the queue.";
    public static final int SNAPSHOT_FETCH_SIZE_DEFAULT = 10_000;

    public static final String SNAPSHOT_MAX_THREADS_CONFIG = "snapshot.max.threads";
    private static final String SNAPSHOT_MAX_THREADS_DOC = "Tables an initial snapshot reads at once, each over its own "
            + "connection under the same snapshot. More threads help when the server, not the worker, is the limit.";
    public static final int SNAPSHOT_MAX_THREADS_DEFAULT = 1;

    public static final String SIGNAL_PREFIX_CONFIG = "signal.prefix";
    private static final String SIGNAL_PREFIX_DOC = "Prefix of the logical decoding messages this connector reads as signals "
            + "(SELECT pg_logical_emit_message(true, '<prefix>', '{\"type\":\"execute-snapshot\",\"data\":"
            + "{\"data-collections\":[\"schema.table\"]}}')) and writes as snapshot watermarks. Messages reach every "
            + "slot of the database: give connectors of one database different prefixes.";
    public static final String SIGNAL_PREFIX_DEFAULT = "pgcdc";

    public static final String INCREMENTAL_CHUNK_SIZE_CONFIG = "incremental.snapshot.chunk.size";
    private static final String INCREMENTAL_CHUNK_SIZE_DOC = "Rows read per chunk by a signalled (incremental) snapshot; "
            + "the stream pauses while a chunk is read, and memory holds one chunk.";
    public static final int INCREMENTAL_CHUNK_SIZE_DEFAULT = 1024;

    public static final ConfigDef CONFIG_DEF = configDef();

    public enum PublicationAutocreate { DISABLED, ALL_TABLES, FILTERED }

    public enum DecimalHandling { PRECISE, DOUBLE, STRING }

    public enum SnapshotMode { INITIAL, INITIAL_ONLY, NEVER, WHEN_NEEDED }

    private final List<Pattern> includes;
    private final List<Pattern> excludes;
    private final Set<String> skippedOperations;

    public SourceConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
        includes = patterns(TABLE_INCLUDE_LIST_CONFIG);
        excludes = patterns(TABLE_EXCLUDE_LIST_CONFIG);
        skippedOperations = skippedOperations(getList(SKIPPED_OPERATIONS_CONFIG));
    }

    private static ConfigDef configDef() {
        int order = 0;
        ConfigDef def = new ConfigDef()
                .define(HOSTNAME_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new HostValidator(), Importance.HIGH,
                        HOSTNAME_DOC, GROUP_CONNECTION, ++order, Width.MEDIUM, "Host")
                .define(PORT_CONFIG, Type.INT, PORT_DEFAULT, ConfigDef.Range.between(1, 65535), Importance.HIGH,
                        PORT_DOC, GROUP_CONNECTION, ++order, Width.SHORT, "Port")
                .define(USER_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                        USER_DOC, GROUP_CONNECTION, ++order, Width.MEDIUM, "User")
                .define(PASSWORD_CONFIG, Type.PASSWORD, "", Importance.HIGH,
                        PASSWORD_DOC, GROUP_CONNECTION, ++order, Width.MEDIUM, "Password")
                .define(DBNAME_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                        DBNAME_DOC, GROUP_CONNECTION, ++order, Width.MEDIUM, "Database")
                .define(SSLMODE_CONFIG, Type.STRING, SSLMODE_DEFAULT,
                        ConfigDef.ValidString.in("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
                        Importance.MEDIUM, SSLMODE_DOC, GROUP_CONNECTION, ++order, Width.SHORT, "SSL mode")
                .define(SSLROOTCERT_CONFIG, Type.STRING, "", Importance.MEDIUM, SSLROOTCERT_DOC, GROUP_CONNECTION, ++order,
                        Width.LONG, "SSL root certificate")
                .define(SSLCERT_CONFIG, Type.STRING, "", Importance.MEDIUM, SSLCERT_DOC, GROUP_CONNECTION, ++order,
                        Width.LONG, "SSL client certificate")
                .define(SSLKEY_CONFIG, Type.STRING, "", Importance.MEDIUM, SSLKEY_DOC, GROUP_CONNECTION, ++order,
                        Width.LONG, "SSL client key");
        order = 0;
        def.define(SLOT_NAME_CONFIG, Type.STRING, SLOT_NAME_DEFAULT, new IdentifierValidator(), Importance.HIGH,
                        SLOT_NAME_DOC, GROUP_REPLICATION, ++order, Width.MEDIUM, "Slot")
                .define(SLOT_FAILOVER_CONFIG, Type.BOOLEAN, SLOT_FAILOVER_DEFAULT, Importance.MEDIUM, SLOT_FAILOVER_DOC,
                        GROUP_REPLICATION, ++order, Width.SHORT, "Failover slot")
                .define(PUBLICATION_NAME_CONFIG, Type.STRING, PUBLICATION_NAME_DEFAULT, ConfigDef.LambdaValidator.with(
                                (name, value) -> {
                                    if (value == null || ((String) value).isEmpty() || ((String) value).contains("'")) {
                                        throw new ConfigException(name, value, "must be a non-empty name without single quotes");
                                    }
                                }, () -> "a non-empty name without single quotes"),
                        Importance.HIGH, PUBLICATION_NAME_DOC, GROUP_REPLICATION, ++order, Width.MEDIUM, "Publication")
                .define(PUBLICATION_AUTOCREATE_CONFIG, Type.STRING, PUBLICATION_AUTOCREATE_DEFAULT,
                        enumValidator(PublicationAutocreate.values()), Importance.MEDIUM,
                        PUBLICATION_AUTOCREATE_DOC, GROUP_REPLICATION, ++order, Width.SHORT, "Publication auto-create")
                .define(TABLE_INCLUDE_LIST_CONFIG, Type.LIST, "", new RegexListValidator(), Importance.HIGH,
                        TABLE_INCLUDE_LIST_DOC, GROUP_REPLICATION, ++order, Width.LONG, "Include tables")
                .define(TABLE_EXCLUDE_LIST_CONFIG, Type.LIST, "", new RegexListValidator(), Importance.MEDIUM,
                        TABLE_EXCLUDE_LIST_DOC, GROUP_REPLICATION, ++order, Width.LONG, "Exclude tables")
                .define(STATUS_UPDATE_INTERVAL_CONFIG, Type.INT, STATUS_UPDATE_INTERVAL_DEFAULT, ConfigDef.Range.atLeast(100),
                        Importance.LOW, STATUS_UPDATE_INTERVAL_DOC, GROUP_REPLICATION, ++order, Width.SHORT, "Status interval");
        order = 0;
        def.define(TOPIC_PREFIX_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                        Importance.HIGH, TOPIC_PREFIX_DOC, GROUP_EVENTS, ++order, Width.MEDIUM, "Topic prefix")
                .define(TOMBSTONES_ON_DELETE_CONFIG, Type.BOOLEAN, TOMBSTONES_ON_DELETE_DEFAULT, Importance.MEDIUM,
                        TOMBSTONES_ON_DELETE_DOC, GROUP_EVENTS, ++order, Width.SHORT, "Tombstones")
                .define(PROVIDE_TRANSACTION_METADATA_CONFIG, Type.BOOLEAN, PROVIDE_TRANSACTION_METADATA_DEFAULT,
                        Importance.MEDIUM, PROVIDE_TRANSACTION_METADATA_DOC, GROUP_EVENTS, ++order, Width.SHORT,
                        "Transaction metadata")
                .define(SKIPPED_OPERATIONS_CONFIG, Type.LIST, SKIPPED_OPERATIONS_DEFAULT, new SkippedOperationsValidator(),
                        Importance.LOW, SKIPPED_OPERATIONS_DOC, GROUP_EVENTS, ++order, Width.SHORT, "Skipped operations")
                .define(DECIMAL_HANDLING_MODE_CONFIG, Type.STRING, DECIMAL_HANDLING_MODE_DEFAULT,
                        enumValidator(DecimalHandling.values()), Importance.MEDIUM, DECIMAL_HANDLING_MODE_DOC,
                        GROUP_EVENTS, ++order, Width.SHORT, "Decimal handling");
        order = 0;
        def.define(MAX_BATCH_SIZE_CONFIG, Type.INT, MAX_BATCH_SIZE_DEFAULT, ConfigDef.Range.atLeast(1), Importance.LOW,
                        MAX_BATCH_SIZE_DOC, GROUP_PERFORMANCE, ++order, Width.SHORT, "Max batch size")
                .define(MAX_QUEUE_SIZE_CONFIG, Type.INT, MAX_QUEUE_SIZE_DEFAULT, ConfigDef.Range.atLeast(1), Importance.LOW,
                        MAX_QUEUE_SIZE_DOC, GROUP_PERFORMANCE, ++order, Width.SHORT, "Max queue size")
                .define(MAX_QUEUE_SIZE_BYTES_CONFIG, Type.LONG, MAX_QUEUE_SIZE_BYTES_DEFAULT, ConfigDef.Range.atLeast(1),
                        Importance.LOW, MAX_QUEUE_SIZE_BYTES_DOC, GROUP_PERFORMANCE, ++order, Width.SHORT, "Max queue bytes")
                .define(POLL_INTERVAL_CONFIG, Type.INT, POLL_INTERVAL_DEFAULT, ConfigDef.Range.atLeast(1), Importance.LOW,
                        POLL_INTERVAL_DOC, GROUP_PERFORMANCE, ++order, Width.SHORT, "Poll interval");
        order = 0;
        def.define(SNAPSHOT_MODE_CONFIG, Type.STRING, SNAPSHOT_MODE_DEFAULT, enumValidator(SnapshotMode.values()),
                        Importance.HIGH, SNAPSHOT_MODE_DOC, GROUP_SNAPSHOT, ++order, Width.SHORT, "Snapshot mode")
                .define(SNAPSHOT_FETCH_SIZE_CONFIG, Type.INT, SNAPSHOT_FETCH_SIZE_DEFAULT, ConfigDef.Range.atLeast(1),
                        Importance.LOW, SNAPSHOT_FETCH_SIZE_DOC, GROUP_SNAPSHOT, ++order, Width.SHORT, "Snapshot fetch size")
                .define(SNAPSHOT_MAX_THREADS_CONFIG, Type.INT, SNAPSHOT_MAX_THREADS_DEFAULT, ConfigDef.Range.between(1, 64),
                        Importance.LOW, SNAPSHOT_MAX_THREADS_DOC, GROUP_SNAPSHOT, ++order, Width.SHORT, "Snapshot threads")
                .define(SIGNAL_PREFIX_CONFIG, Type.STRING, SIGNAL_PREFIX_DEFAULT, new ConfigDef.NonEmptyString(),
                        Importance.LOW, SIGNAL_PREFIX_DOC, GROUP_SNAPSHOT, ++order, Width.SHORT, "Signal prefix")
                .define(INCREMENTAL_CHUNK_SIZE_CONFIG, Type.INT, INCREMENTAL_CHUNK_SIZE_DEFAULT, ConfigDef.Range.atLeast(1),
                        Importance.LOW, INCREMENTAL_CHUNK_SIZE_DOC, GROUP_SNAPSHOT, ++order, Width.SHORT,
                        "Incremental snapshot chunk size");
        return def;
    }

    public String hostname() {
        return getString(HOSTNAME_CONFIG);
    }

    public int port() {
        return getInt(PORT_CONFIG);
    }

    public String user() {
        return getString(USER_CONFIG);
    }

    public String dbname() {
        return getString(DBNAME_CONFIG);
    }

    public String slotName() {
        return getString(SLOT_NAME_CONFIG);
    }

    public boolean slotFailover() {
        return getBoolean(SLOT_FAILOVER_CONFIG);
    }

    public String publicationName() {
        return getString(PUBLICATION_NAME_CONFIG);
    }

    public PublicationAutocreate publicationAutocreate() {
        return PublicationAutocreate.valueOf(getString(PUBLICATION_AUTOCREATE_CONFIG).toUpperCase(Locale.ROOT));
    }

    public String topicPrefix() {
        return getString(TOPIC_PREFIX_CONFIG);
    }

    public boolean tombstonesOnDelete() {
        return getBoolean(TOMBSTONES_ON_DELETE_CONFIG);
    }

    public boolean provideTransactionMetadata() {
        return getBoolean(PROVIDE_TRANSACTION_METADATA_CONFIG);
    }

    /** Whether an operation code (c, u, d, t) is to be emitted. */
    public boolean emits(String operation) {
        return !skippedOperations.contains(operation);
    }

    public DecimalHandling decimalHandling() {
        return DecimalHandling.valueOf(getString(DECIMAL_HANDLING_MODE_CONFIG).toUpperCase(Locale.ROOT));
    }

    public SnapshotMode snapshotMode() {
        return SnapshotMode.valueOf(getString(SNAPSHOT_MODE_CONFIG).toUpperCase(Locale.ROOT));
    }

    public int snapshotFetchSize() {
        return getInt(SNAPSHOT_FETCH_SIZE_CONFIG);
    }

    public int snapshotMaxThreads() {
        return getInt(SNAPSHOT_MAX_THREADS_CONFIG);
    }

    public String signalPrefix() {
        return getString(SIGNAL_PREFIX_CONFIG);
    }

    public int incrementalChunkSize() {
        return getInt(INCREMENTAL_CHUNK_SIZE_CONFIG);
    }

    public int statusUpdateIntervalMs() {
        return getInt(STATUS_UPDATE_INTERVAL_CONFIG);
    }

    public int maxBatchSize() {
        return getInt(MAX_BATCH_SIZE_CONFIG);
    }

    public int maxQueueSize() {
        return getInt(MAX_QUEUE_SIZE_CONFIG);
    }

    public long maxQueueSizeBytes() {
        return getLong(MAX_QUEUE_SIZE_BYTES_CONFIG);
    }

    public int pollIntervalMs() {
        return getInt(POLL_INTERVAL_CONFIG);
    }

    /** Whether a table is captured, by the include and exclude lists. */
    public boolean captures(String schema, String table) {
        String name = schema + "." + table;
        if (!includes.isEmpty() && includes.stream().noneMatch(p -> p.matcher(name).matches())) {
            return false;
        }
        return excludes.stream().noneMatch(p -> p.matcher(name).matches());
    }

    public String jdbcUrl() {
        String host = hostname();
        return "jdbc:postgresql://" + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port() + "/"
                + java.net.URLEncoder.encode(dbname(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Properties for an ordinary connection; {@link #replicationProperties()} for the replication one. */
    public Properties connectionProperties() {
        Properties props = new Properties();
        PGProperty.USER.set(props, user());
        Password password = getPassword(PASSWORD_CONFIG);
        if (password != null && !password.value().isEmpty()) {
            PGProperty.PASSWORD.set(props, password.value());
        }
        PGProperty.SSL_MODE.set(props, getString(SSLMODE_CONFIG));
        setUnlessEmpty(props, PGProperty.SSL_ROOT_CERT, SSLROOTCERT_CONFIG);
        setUnlessEmpty(props, PGProperty.SSL_CERT, SSLCERT_CONFIG);
        setUnlessEmpty(props, PGProperty.SSL_KEY, SSLKEY_CONFIG);
        PGProperty.APPLICATION_NAME.set(props, "pgcdc-source");
        PGProperty.CONNECT_TIMEOUT.set(props, 30);
        return props;
    }

    private void setUnlessEmpty(Properties props, PGProperty property, String key) {
        String value = getString(key);
        if (!value.isEmpty()) {
            property.set(props, value);
        }
    }

    public Properties replicationProperties() {
        Properties props = connectionProperties();
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.OPTIONS.set(props, TEXT_FORMAT_OPTIONS);
        return props;
    }

    /** For reading rows as text, formatted exactly as pgoutput formats them, so one set of parsers serves both. */
    public Properties snapshotProperties() {
        Properties props = connectionProperties();
        PGProperty.OPTIONS.set(props, TEXT_FORMAT_OPTIONS);
        // Text results only: binary transfer (used for server-prepared statements) would bypass the text form.
        PGProperty.BINARY_TRANSFER.set(props, false);
        PGProperty.PREPARE_THRESHOLD.set(props, 0);
        // Key values for resuming are bound as text; the server casts them to the key columns' types.
        PGProperty.STRING_TYPE.set(props, "unspecified");
        return props;
    }

    // pgoutput formats values with the walsender's settings: fix the ones our parsers rely on.
    private static final String TEXT_FORMAT_OPTIONS = "-c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex";

    private List<Pattern> patterns(String key) {
        return getList(key).stream().map(String::trim).filter(s -> !s.isEmpty()).map(Pattern::compile)
                .collect(Collectors.toUnmodifiableList());
    }

    private static Set<String> skippedOperations(List<String> values) {
        return values.stream().map(v -> v.trim().toLowerCase(Locale.ROOT)).filter(v -> !v.isEmpty() && !v.equals("none"))
                .collect(Collectors.toUnmodifiableSet());
    }

    private static ConfigDef.Validator enumValidator(Enum<?>[] values) {
        String[] names = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            names[i] = values[i].name().toLowerCase(Locale.ROOT);
        }
        return ConfigDef.ValidString.in(names);
    }

    private static final class RegexListValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            @SuppressWarnings("unchecked")
            List<String> list = (List<String>) value;
            for (String regex : list) {
                try {
                    Pattern.compile(regex.trim());
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(name, regex, "not a valid regular expression: " + e.getDescription());
                }
            }
        }

        @Override
        public String toString() {
            return "comma-separated regular expressions on schema.table";
        }
    }

    private static final class SkippedOperationsValidator implements ConfigDef.Validator {
        private static final Set<String> ALLOWED = Set.of("c", "u", "d", "t", "none");

        @Override
        public void ensureValid(String name, Object value) {
            @SuppressWarnings("unchecked")
            List<String> list = (List<String>) value;
            for (String op : list) {
                if (!ALLOWED.contains(op.trim().toLowerCase(Locale.ROOT))) {
                    throw new ConfigException(name, op, "must be one of c, u, d, t or none");
                }
            }
        }

        @Override
        public String toString() {
            return "c, u, d, t or none";
        }
    }

    /**
     * A host name, an IPv4 address or an IPv6 address (bracketed or not), and nothing else: the host is placed into
     * the JDBC URL, where a '/', '?' or ',' would choose another database, override sslmode or set any driver
     * property.
     */
    private static final class HostValidator implements ConfigDef.Validator {
        private static final Pattern NAME = Pattern.compile(
                "(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?");
        /** At least two colons: "host:port" is not an address. */
        private static final Pattern IPV6 = Pattern.compile("\\[?[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\\]?");

        @Override
        public void ensureValid(String name, Object value) {
            String host = (String) value;
            if (host == null || !(NAME.matcher(host).matches() || IPV6.matcher(host).matches()
                    && host.startsWith("[") == host.endsWith("]"))) {
                throw new ConfigException(name, value, "not a host name or IP address; the port, database and "
                        + "connection options have settings of their own (database.port, database.dbname, database.sslmode)");
            }
        }

        @Override
        public String toString() {
            return "a host name or IP address";
        }
    }

    /** Slot names are restricted by PostgreSQL to lower-case letters, digits and underscores. */
    private static final class IdentifierValidator implements ConfigDef.Validator {
        private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");

        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !SLOT.matcher((String) value).matches()) {
                throw new ConfigException(name, value, "a slot name may contain only lower-case letters, digits and "
                        + "underscores, at most 63 characters");
            }
        }

        @Override
        public String toString() {
            return "[a-z0-9_]{1,63}";
        }
    }
}
