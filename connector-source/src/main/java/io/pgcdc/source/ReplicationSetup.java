package io.pgcdc.source;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before streaming starts, everything that would otherwise fail later or, worse,
 * silently: the server's wal_level, the user's REPLICATION attribute, the publication, the
 * captured tables' keys, and the slot. Creates the publication and slot when allowed.
 */
final class ReplicationSetup {

    private static final Logger log = LoggerFactory.getLogger(ReplicationSetup.class);
    private static final long SLOT_RELEASE_WAIT_MS = 10_000;
    private static final String ALL_TABLES_MIXED = "A FOR ALL TABLES publication publishes partitions either as their "
            + "partitioned table or under their own names, not both as table.include.list asks: set "
            + "publication.autocreate.mode=filtered, or name either the partitioned tables or their partitions: ";

    private final SourceConfig config;

    ReplicationSetup(SourceConfig config) {
        this.config = config;
    }

    /**
     * What start-up found and made.
     *
     * @param resumeFrom what streaming and snapshotting continue from: the stored offset, or null
     *                   when everything starts over (a new slot in {@code when_needed} mode)
     * @param exported   the new slot's exported snapshot, open until the snapshot has imported it; null
     *                   when no slot was created for a snapshot
     */
    record Start(SourceOffset resumeFrom, ExportedSnapshot exported) { }

    /** A snapshot a new slot exported: valid while its connection stays open and idle. */
    record ExportedSnapshot(Connection connection, String name, long lsn) implements AutoCloseable {
        @Override
        public void close() {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the snapshot was imported or is no longer needed
            }
        }
    }

    /** @param storedOffset what Connect holds for this slot, or null on a first start */
    Start run(SourceOffset storedOffset) {
        try (Connection connection = connect(config)) {
            checkWalLevel(connection);
            checkReplicationRole(connection);
            String failover = FailoverSlot.unsupported(config, connection, where());
            if (failover != null) {
                throw new ConnectException(failover);
            }
            String unprotected = FailoverSlot.unprotected(config, connection, where());
            if (unprotected != null) {
                log.warn(unprotected);
            }
            ensurePublication(connection);
            String tables = unselectableTables(connection, capturedTableNames(connection));
            if (tables != null) {
                throw new ConnectException(tables);
            }
            if (config.snapshotMode() == SourceConfig.SnapshotMode.INITIAL_ONLY) {
                return new Start(storedOffset, null); // no streaming: no slot
            }
            return ensureSlot(connection, storedOffset);
        } catch (SQLException e) {
            throw new ConnectException("Startup checks against " + where() + " failed: " + e.getMessage(), e);
        }
    }

    /** Whether the task reads tables before streaming, given what it resumes from. */
    static boolean snapshotNeeded(SourceConfig config, SourceOffset resumeFrom) {
        return config.snapshotMode() != SourceConfig.SnapshotMode.NEVER
                && (resumeFrom == null || resumeFrom.snapshotUnfinished());
    }

    static Connection connect(SourceConfig config) {
        try {
            return DriverManager.getConnection(config.jdbcUrl(), config.connectionProperties());
        } catch (SQLException e) {
            throw new ConnectException("Cannot connect to PostgreSQL at " + config.hostname() + ":" + config.port()
                    + ", database \"" + config.dbname() + "\", as user \"" + config.user() + "\": " + e.getMessage(), e);
        }
    }

    private String where() {
        return config.hostname() + ":" + config.port() + "/" + config.dbname();
    }

    /**
     * A clear failure for a slot dropped or invalidated under a streaming task, or null for other
     * errors. The task cannot go on: the changes the slot held are gone, and only a new slot with a
     * new snapshot makes the topics whole again, which a (re)started task sets up.
     */
    static ConnectException slotLost(SourceConfig config, Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SQLException e && e.getMessage() != null && e.getMessage().contains("replication slot")) {
                String what;
                if ("42704".equals(e.getSQLState())) {
                    what = "was dropped while the connector was reading it";
                } else if ("55000".equals(e.getSQLState())) {
                    what = "was invalidated while the connector was reading it, as max_slot_wal_keep_size was exceeded";
                } else {
                    continue;
                }
                String where = config.hostname() + ":" + config.port() + "/" + config.dbname();
                String recovery = config.snapshotMode() == SourceConfig.SnapshotMode.WHEN_NEEDED
                        ? "Restart the task (POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true): with "
                        + "snapshot.mode=when_needed it creates the slot again and takes a new snapshot"
                        : "Set snapshot.mode=when_needed (the task restarts, creates the slot again and takes a new "
                        + "snapshot), or stop the connector, reset its offsets (DELETE /connectors/<name>/offsets) and "
                        + "resume it";
                return new ConnectException("Replication slot \"" + config.slotName() + "\" in " + where + " " + what
                        + ": the changes committed since are lost to it (" + e.getMessage().replace('\n', ' ') + "). "
                        + recovery, error);
            }
        }
        return null;
    }

    /** A misconfiguration found before anything is created, and the setting it belongs to. */
    record Problem(String setting, String message) { }

    /**
     * What would stop the connector, found without changing anything: for the REST API's
     * validation, which reports each problem on the setting it concerns.
     */
    List<Problem> problems() {
        List<Problem> problems = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(config.jdbcUrl(), config.connectionProperties())) {
            addIfPresent(problems, SourceConfig.HOSTNAME_CONFIG, walLevelProblem(connection));
            addIfPresent(problems, SourceConfig.USER_CONFIG, replicationRoleProblem(connection));
            List<String> captured = capturedTableNames(connection);
            if (captured.isEmpty()) {
                problems.add(new Problem(SourceConfig.TABLE_INCLUDE_LIST_CONFIG, "No table in " + where()
                        + " matches table.include.list/table.exclude.list"));
            }
            addIfPresent(problems, SourceConfig.TABLE_INCLUDE_LIST_CONFIG, unselectableTables(connection, captured));
            addIfPresent(problems, SourceConfig.TABLE_INCLUDE_LIST_CONFIG, unpublishablePartitionedTables(connection, captured));
            addIfPresent(problems, SourceConfig.PUBLICATION_AUTOCREATE_CONFIG, publicationProblem(connection, captured));
            addIfPresent(problems, SourceConfig.SLOT_NAME_CONFIG, slotProblem(connection));
            addIfPresent(problems, SourceConfig.SLOT_FAILOVER_CONFIG, FailoverSlot.unsupported(config, connection, where()));
            addIfPresent(problems, SourceConfig.SLOT_FAILOVER_CONFIG, FailoverSlot.unprotected(config, connection, where()));
        } catch (SQLException e) {
            problems.add(new Problem(SourceConfig.HOSTNAME_CONFIG, "Cannot connect to PostgreSQL at " + config.hostname()
                    + ":" + config.port() + ", database \"" + config.dbname() + "\", as user \"" + config.user() + "\": "
                    + e.getMessage()));
        }
        return problems;
    }

    private static void addIfPresent(List<Problem> problems, String setting, String message) {
        if (message != null) {
            problems.add(new Problem(setting, message));
        }
    }

    private void checkWalLevel(Connection connection) throws SQLException {
        String problem = walLevelProblem(connection);
        if (problem != null) {
            throw new ConnectException(problem);
        }
    }

    private String walLevelProblem(Connection connection) throws SQLException {
        String level = queryString(connection, "SHOW wal_level");
        return "logical".equals(level) ? null : "PostgreSQL at " + where() + " has wal_level = " + level
                + "; logical replication needs wal_level = logical (set it in postgresql.conf and restart the server)";
    }

    private void checkReplicationRole(Connection connection) throws SQLException {
        String problem = replicationRoleProblem(connection);
        if (problem != null) {
            throw new ConnectException(problem);
        }
    }

    private String replicationRoleProblem(Connection connection) throws SQLException {
        String allowed = queryString(connection,
                "SELECT (rolreplication OR rolsuper)::text FROM pg_catalog.pg_roles WHERE rolname = current_user");
        return "true".equals(allowed) ? null : "User \"" + config.user() + "\" lacks the REPLICATION attribute needed to "
                + "read a replication slot (ALTER ROLE \"" + config.user() + "\" WITH REPLICATION)";
    }

    /**
     * Captured tables the user may not read (the snapshot reads them) or that have no key, or null: what validation
     * reports and what a starting task refuses.
     */
    private String unselectableTables(Connection connection, List<String> captured) throws SQLException {
        List<String> unreadable = new ArrayList<>();
        List<String> unkeyed = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement("SELECT has_table_privilege(c.oid, 'SELECT'), "
                + "c.relreplident = 'f' OR (c.relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
                + "WHERE i.indrelid = c.oid AND i.indisreplident)) OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM "
                + "pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)), "
                + "(SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = c.relnamespace) || '.' || c.relname "
                + "FROM pg_catalog.pg_class c WHERE c.oid = ?::regclass")) {
            for (String table : captured) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        unreadable.add(table);
                    }
                    if (!rs.getBoolean(2)) {
                        unkeyed.add(rs.getString(3));
                    }
                }
            }
        }
        List<String> problems = new ArrayList<>();
        if (!unreadable.isEmpty()) {
            problems.add("User \"" + config.user() + "\" may not SELECT from " + String.join(", ", unreadable));
        }
        if (!unkeyed.isEmpty()) {
            // Published for updates and deletes, such a table has them refused by the server, and no consumer could
            // tell its rows apart.
            problems.add("Captured tables without primary key or replica identity: " + unkeyed + ": their updates and "
                    + "deletes cannot be keyed (and PostgreSQL rejects them while the table is published). Add a primary "
                    + "key, set REPLICA IDENTITY USING INDEX or FULL, or exclude the tables");
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    /**
     * Why start-up could not make the publication select the captured tables as this user, or null:
     * a publication missing with autocreation disabled, or one this user may not create or change
     * (FOR ALL TABLES needs a superuser; FOR TABLE needs CREATE on the database and the tables'
     * ownership; changing one, its ownership).
     */
    private String publicationProblem(Connection connection, List<String> captured) throws SQLException {
        String name = config.publicationName();
        Boolean owner = null;
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_catalog.pg_has_role(p.pubowner, 'USAGE') "
                + "FROM pg_catalog.pg_publication p WHERE p.pubname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    owner = rs.getBoolean(1);
                }
            }
        }
        SourceConfig.PublicationAutocreate mode = config.publicationAutocreate();
        // Start-up changes an existing publication only in filtered mode, as its owner.
        if (owner != null && mode != SourceConfig.PublicationAutocreate.FILTERED) {
            return unpublishedProblem(connection, captured);
        }
        if (owner == null && mode == SourceConfig.PublicationAutocreate.ALL_TABLES
                && allTablesViaRoot(connection, captured) == null) {
            return ALL_TABLES_MIXED + captured;
        }
        String publication = "Publication \"" + name + "\"";
        if (owner != null) {
            if (mode != SourceConfig.PublicationAutocreate.FILTERED || owner || captured.isEmpty()) {
                return null;
            }
            List<String> published = publishedTableNames(connection, name);
            return published.equals(captured) ? null : publication + " covers " + published + " but "
                    + "table.include.list/table.exclude.list select " + captured + ", and only its owner can change it "
                    + "(publication.autocreate.mode=filtered): have the owner ALTER PUBLICATION ... SET TABLE, or make "
                    + "the lists select what it covers";
        }
        switch (mode) {
            case DISABLED:
                return publication + " does not exist in " + where() + " and publication.autocreate.mode is disabled: "
                        + "create it, or choose all_tables or filtered";
            case ALL_TABLES:
                return "true".equals(queryString(connection, "SELECT rolsuper::text FROM pg_catalog.pg_roles "
                        + "WHERE rolname = current_user")) ? null : publication + " does not exist in " + where()
                        + ", and creating it FOR ALL TABLES (publication.autocreate.mode=all_tables) needs a superuser, "
                        + "which user \"" + config.user() + "\" is not: create it as the tables' owner, or use filtered";
            default:
                if (captured.isEmpty()) {
                    return null; // reported on table.include.list
                }
                try (PreparedStatement ps = connection.prepareStatement("SELECT has_database_privilege(current_database(), "
                        + "'CREATE') AND bool_and(pg_catalog.pg_has_role(c.relowner, 'USAGE')) FROM pg_catalog.pg_class c "
                        + "WHERE c.oid = ANY(?::regclass[])")) {
                    ps.setArray(1, connection.createArrayOf("text", captured.toArray()));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getBoolean(1) ? null : publication + " does not exist in " + where() + ", and user \""
                                + config.user() + "\" may not create it for " + captured + ": that needs CREATE on the "
                                + "database and ownership of the tables; create it as the tables' owner";
                    }
                }
        }
    }

    /** A slot of this name that this connector cannot use, or no room for a new one; null when fine. */
    private String slotProblem(Connection connection) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT s.plugin, s.database FROM "
                + "pg_catalog.pg_replication_slots s WHERE s.slot_name = ?")) {
            ps.setString(1, config.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return foreignSlot(rs.getString(1), rs.getString(2));
                }
            }
        }
        String free = queryString(connection, "SELECT (current_setting('max_replication_slots')::int "
                + "- (SELECT count(*) FROM pg_catalog.pg_replication_slots))::text");
        return Integer.parseInt(free) > 0 ? null : "No free replication slot on " + where()
                + " (max_replication_slots is reached): drop an unused slot or raise max_replication_slots";
    }

    /** Why an existing slot of this name is not this connector's to read (another plugin or database), or null. */
    private String foreignSlot(String plugin, String database) {
        if (!"pgoutput".equals(plugin)) {
            return "Replication slot \"" + config.slotName() + "\" uses plugin " + plugin
                    + ", not pgoutput: drop it or choose another slot.name";
        }
        return config.dbname().equals(database) ? null : "Replication slot \"" + config.slotName()
                + "\" belongs to database " + database + ", not " + config.dbname() + ": choose another slot.name";
    }

    /** Partitioned tables among the captured ones, which a publication cannot hold before PostgreSQL 13; or null. */
    private static String unpublishablePartitionedTables(Connection connection, List<String> captured) throws SQLException {
        int major = connection.getMetaData().getDatabaseMajorVersion();
        List<String> partitioned = major < 13 ? tablesWhere(connection, captured, "c.relkind = 'p'") : List.of();
        return partitioned.isEmpty() ? null : "PostgreSQL " + major + " cannot publish partitioned tables " + partitioned
                + " (13 can, under their own names): name their partitions in table.include.list instead, each "
                + "captured as a table of its own";
    }

    private void ensurePublication(Connection connection) throws SQLException {
        String name = config.publicationName();
        boolean exists;
        try (PreparedStatement ps = connection.prepareStatement("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
            }
        }
        SourceConfig.PublicationAutocreate mode = config.publicationAutocreate();
        List<String> tables = capturedTableNames(connection);
        String partitioned = unpublishablePartitionedTables(connection, tables);
        if (partitioned != null) {
            throw new ConnectException(partitioned);
        }
        if (!exists || mode == SourceConfig.PublicationAutocreate.FILTERED) {
            makePublication(connection, exists, tables);
        }
        String problem = unpublishedProblem(connection, tables);
        if (problem != null) {
            throw new ConnectException(problem);
        }
    }

    private void makePublication(Connection connection, boolean exists, List<String> tables) throws SQLException {
        String name = config.publicationName();
        try (Statement s = connection.createStatement()) {
            switch (config.publicationAutocreate()) {
                case DISABLED:
                    throw new ConnectException("Publication \"" + name + "\" does not exist in " + where()
                            + " and publication.autocreate.mode is disabled: create it, or choose all_tables or filtered");
                case ALL_TABLES:
                    Boolean viaRoot = allTablesViaRoot(connection, tables);
                    if (viaRoot == null) {
                        throw new ConnectException(ALL_TABLES_MIXED + tables);
                    }
                    log.info("Creating publication {} FOR ALL TABLES", name);
                    s.execute("CREATE PUBLICATION " + Sql.quote(name) + " FOR ALL TABLES" + publicationOptions(connection, viaRoot));
                    break;
                default:
                    if (tables.isEmpty()) {
                        throw new ConnectException("No table in " + where() + " matches table.include.list/"
                                + "table.exclude.list, so publication \"" + name + "\" would be empty");
                    }
                    if (exists && Boolean.FALSE.equals(publishesViaRoot(connection))
                            && !tablesWhere(connection, tables, "c.relkind = 'p'").isEmpty()) {
                        log.info("Updating publication {} to publish partitions as their partitioned table", name);
                        s.execute("ALTER PUBLICATION " + Sql.quote(name) + " SET (publish_via_partition_root = true)");
                    }
                    if (exists && tables.equals(publishedTableNames(connection, name))) {
                        return; // already right: no ALTER, which would need the publication's owner
                    }
                    String list = String.join(", ", tables);
                    log.info("{} publication {} for tables {}", exists ? "Updating" : "Creating", name, list);
                    s.execute(exists ? "ALTER PUBLICATION " + Sql.quote(name) + " SET TABLE " + list
                            : "CREATE PUBLICATION " + Sql.quote(name) + " FOR TABLE " + list + publicationOptions(connection, true));
            }
        }
    }

    /** Quoted names of the tables a publication covers now, in the order of {@link #capturedTableNames}. */
    private static List<String> publishedTableNames(Connection connection, String publication) throws SQLException {
        List<String> names = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement("SELECT schemaname, tablename FROM "
                + "pg_catalog.pg_publication_tables WHERE pubname = ? ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(Sql.quote(rs.getString(1)) + "." + Sql.quote(rs.getString(2)));
                }
            }
        }
        return names;
    }

    /**
     * Quoted names of the ordinary and partitioned tables the include and exclude lists select. A partition is one
     * only when none of its ancestors is selected: a selected partitioned table is captured whole, under its own name.
     */
    private List<String> capturedTableNames(Connection connection) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT n.nspname, c.relname, ARRAY(SELECT an.nspname FROM pg_catalog.pg_partition_ancestors(c.oid) pa "
                        + "JOIN pg_catalog.pg_class a ON a.oid = pa.relid JOIN pg_catalog.pg_namespace an ON an.oid = "
                        + "a.relnamespace WHERE pa.relid <> c.oid), ARRAY(SELECT a.relname FROM "
                        + "pg_catalog.pg_partition_ancestors(c.oid) pa JOIN pg_catalog.pg_class a ON a.oid = pa.relid "
                        + "WHERE pa.relid <> c.oid) "
                        + "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE c.relkind IN ('r', 'p') "
                        + "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
                        + "ORDER BY 1, 2")) {
            while (rs.next()) {
                if (config.captures(rs.getString(1), rs.getString(2))
                        && !capturesAny((String[]) rs.getArray(3).getArray(), (String[]) rs.getArray(4).getArray())) {
                    names.add(Sql.quote(rs.getString(1)) + "." + Sql.quote(rs.getString(2)));
                }
            }
        }
        return names;
    }

    private boolean capturesAny(String[] schemas, String[] tables) {
        for (int i = 0; i < tables.length; i++) {
            if (config.captures(schemas[i], tables[i])) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why the publication as it is would not send some captured tables' changes under their own names, the names the
     * include list selects (so that nothing of them would arrive), or null. Partitions are sent under their own names,
     * or, with publish_via_partition_root, as the partitioned table the publication includes.
     */
    private String unpublishedProblem(Connection connection, List<String> captured) throws SQLException {
        List<String> missing = new ArrayList<>(captured);
        missing.removeAll(publishedTableNames(connection, config.publicationName()));
        if (missing.isEmpty()) {
            return null;
        }
        String publication = Sql.quote(config.publicationName());
        List<String> partitioned = tablesWhere(connection, missing, "c.relkind = 'p'");
        List<String> partitions = tablesWhere(connection, missing, "c.relispartition");
        List<String> ways = new ArrayList<>();
        if (!partitioned.isEmpty()) {
            ways.add(connection.getMetaData().getDatabaseMajorVersion() < 13
                    ? "PostgreSQL before 13 publishes only the partitions of " + partitioned + ": name them in "
                    + "table.include.list, each captured as a table of its own"
                    : "for " + partitioned + ", publish partitions as their partitioned table: ALTER PUBLICATION "
                    + publication + " SET (publish_via_partition_root = true)");
        }
        if (!partitions.isEmpty()) {
            ways.add("partitions " + partitions + " are published as their partitioned table (publish_via_partition_root):"
                    + " name that table in table.include.list instead");
        }
        if (ways.isEmpty()) {
            ways.add("ALTER PUBLICATION " + publication + " ADD TABLE " + String.join(", ", missing)
                    + ", or set publication.autocreate.mode=filtered");
        }
        return "Publication " + publication + " does not publish " + missing + " under their own names, so nothing of "
                + "them would arrive: " + String.join("; ", ways);
    }

    /** Those of {@code tables} for which {@code condition} holds on their pg_class row {@code c}. */
    private static List<String> tablesWhere(Connection connection, List<String> tables, String condition)
            throws SQLException {
        List<String> matching = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement("SELECT " + condition + " FROM pg_catalog.pg_class c "
                + "WHERE c.oid = ?::regclass")) {
            for (String table : tables) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getBoolean(1)) {
                        matching.add(table);
                    }
                }
            }
        }
        return matching;
    }

    /**
     * Whether a FOR ALL TABLES publication made now should publish partitions as their partitioned table: unless the
     * include list names partitions. Null when it names both partitioned tables and partitions, which one such
     * publication cannot serve.
     */
    private static Boolean allTablesViaRoot(Connection connection, List<String> captured) throws SQLException {
        boolean partitionedTables = !tablesWhere(connection, captured, "c.relkind = 'p'").isEmpty();
        boolean partitions = !tablesWhere(connection, captured, "c.relispartition").isEmpty();
        return partitionedTables && partitions ? null : !partitions;
    }

    /** Whether the publication publishes partitions as their root; null when the server (before 13) cannot. */
    private Boolean publishesViaRoot(Connection connection) throws SQLException {
        if (connection.getMetaData().getDatabaseMajorVersion() < 13) {
            return null;
        }
        return Boolean.valueOf(queryString(connection, "SELECT pubviaroot::text FROM pg_catalog.pg_publication WHERE pubname = "
                + Sql.literal(config.publicationName())));
    }

    /** The options a publication is created with: whether partitions are published as their root table (PostgreSQL 13+). */
    private static String publicationOptions(Connection connection, boolean viaRoot) throws SQLException {
        return connection.getMetaData().getDatabaseMajorVersion() >= 13
                ? " WITH (publish_via_partition_root = " + viaRoot + ")" : "";
    }

    private Start ensureSlot(Connection connection, SourceOffset storedOffset) throws SQLException {
        long deadline = System.currentTimeMillis() + SLOT_RELEASE_WAIT_MS;
        while (true) {
            try (PreparedStatement ps = connection.prepareStatement(
                    // to_jsonb: columns that older servers lack read as null (wal_status 13+, invalidation_reason 17+).
                    "SELECT s.plugin, s.database, s.active_pid, to_jsonb(s) ->> 'wal_status', r.client_addr::text, "
                            + "to_jsonb(s) ->> 'invalidation_reason', (s.confirmed_flush_lsn - '0/0')::text, "
                            + "(CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn() "
                            + "ELSE pg_catalog.pg_current_wal_lsn() END - '0/0')::text, to_jsonb(s) ->> 'failover' "
                            + "FROM pg_catalog.pg_replication_slots s LEFT JOIN pg_catalog.pg_stat_replication r "
                            + "ON r.pid = s.active_pid WHERE s.slot_name = ?")) {
                ps.setString(1, config.slotName());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return createSlot(storedOffset);
                    }
                    String foreign = foreignSlot(rs.getString(1), rs.getString(2));
                    if (foreign != null) {
                        throw new ConnectException(foreign);
                    }
                    String invalidation = rs.getString(6);
                    if ("lost".equals(rs.getString(4)) || invalidation != null) {
                        String why = invalidation != null ? "invalidation_reason = " + invalidation
                                + invalidationCause(invalidation) : "wal_status = lost: max_slot_wal_keep_size was exceeded";
                        if (config.snapshotMode() != SourceConfig.SnapshotMode.WHEN_NEEDED) {
                            throw new ConnectException("Replication slot \"" + config.slotName() + "\" in " + where()
                                    + " was invalidated (" + why + "): the changes it held are gone. Set "
                                    + "snapshot.mode=when_needed to drop it, create it again and take a new snapshot; or "
                                    + "drop the slot, stop the connector, reset its offsets (DELETE /connectors/<name>/offsets) "
                                    + "and resume it");
                        }
                        log.warn("Replication slot {} was invalidated ({}): dropping it, creating it again and taking a "
                                + "new snapshot (snapshot.mode=when_needed)", config.slotName(), why);
                        try (PreparedStatement drop = connection.prepareStatement(
                                "SELECT pg_catalog.pg_drop_replication_slot(?)")) {
                            drop.setString(1, config.slotName());
                            drop.execute();
                        }
                        return createSlot(null);
                    }
                    int pid = rs.getInt(3);
                    if (rs.wasNull()) {
                        checkOffsetAgainst(storedOffset, lsn(rs.getString(7)), lsn(rs.getString(8)));
                        if (config.slotFailover() && !"true".equals(rs.getString(9))) {
                            enableFailover();
                        }
                        return new Start(storedOffset, null);
                    }
                    if (System.currentTimeMillis() > deadline) {
                        throw new ConnectException("Replication slot \"" + config.slotName() + "\" is in use by another "
                                + "process (pid " + pid + ", client " + rs.getString(5) + "); only one reader per slot");
                    }
                }
            }
            // A previous incarnation of this task may still be letting go of the slot.
            sleep(500);
        }
    }

    /**
     * A stored offset ahead of the slot's confirmed position is normal: Connect stores offsets before
     * the slot is confirmed, and a task can stop in between. The offset says what was delivered, so
     * streaming starts there and the server skips what lies before it. An offset ahead of the end of
     * the server's WAL, though, was not written against this server as it is (a restored backup, a
     * promoted replica that was behind, a new cluster under the old address): starting there would
     * silently skip every change until the WAL caught up with it.
     */
    private void checkOffsetAgainst(SourceOffset stored, long slotConfirmed, long walEnd) {
        if (stored == null) {
            return;
        }
        long offset = Long.compareUnsigned(stored.flushLsn(), stored.position().commitLsn()) > 0 ? stored.flushLsn()
                : stored.position().commitLsn();
        if (Long.compareUnsigned(offset, walEnd) > 0) {
            throw new ConnectException("Connect's stored offset for replication slot \"" + config.slotName() + "\" is at "
                    + lsnText(offset) + ", beyond the end of the WAL of " + where() + " (" + lsnText(walEnd)
                    + "): the offset was stored against another server, or against this one before it was restored "
                    + "or replaced, and starting there would skip every change up to it. Stop the connector, reset its "
                    + "offsets (DELETE /connectors/<name>/offsets) and drop the slot, then resume it to take a new "
                    + "snapshot; or, if the connector points at the wrong server, fix database.hostname");
        }
        if (Long.compareUnsigned(offset, slotConfirmed) > 0) {
            log.info("Replication slot {} is confirmed up to {}, Connect's offset is at {}: the changes in between were "
                    + "delivered before the task stopped, and are skipped", config.slotName(), lsnText(slotConfirmed),
                    lsnText(offset));
        }
    }

    private Start createSlot(SourceOffset storedOffset) throws SQLException {
        SourceOffset resumeFrom = storedOffset;
        if (storedOffset != null && storedOffset.snapshotUnfinished()) {
            // The earlier rows were read at the old slot's position; a new slot starts later: read them again.
            log.warn("Replication slot {} disappeared during the snapshot: starting the snapshot over with a new slot",
                    config.slotName());
            resumeFrom = null;
        } else if (storedOffset != null) {
            if (config.snapshotMode() != SourceConfig.SnapshotMode.WHEN_NEEDED) {
                throw new ConnectException("Replication slot \"" + config.slotName() + "\" does not exist, but Connect "
                        + "holds offsets for it: changes committed since the slot disappeared are lost. To start over, "
                        + "stop the connector, reset its offsets (DELETE /connectors/<name>/offsets) and resume it, "
                        + "or set snapshot.mode=when_needed to take a new snapshot.");
            }
            log.warn("Replication slot {} does not exist although Connect holds offsets for it: creating it and taking "
                    + "a new snapshot (snapshot.mode=when_needed)", config.slotName());
            resumeFrom = null;
        }
        if (snapshotNeeded(config, resumeFrom)) {
            return new Start(resumeFrom, createExporting());
        }
        log.info("Creating replication slot {} (pgoutput)", config.slotName());
        try (Connection connection = connect(config);
             PreparedStatement ps = connection.prepareStatement(
                     "SELECT pg_catalog.pg_create_logical_replication_slot(?, "
                             + FailoverSlot.creationArguments(config) + ")")) {
            ps.setString(1, config.slotName());
            ps.execute();
        } catch (SQLException e) {
            throw new ConnectException("Cannot create replication slot \"" + config.slotName() + "\" in " + where() + ": "
                    + e.getMessage(), e);
        }
        return new Start(resumeFrom, null);
    }

    /** Creates the slot over a replication connection, which exports the snapshot the slot starts at. */
    private ExportedSnapshot createExporting() {
        log.info("Creating replication slot {} (pgoutput) with an exported snapshot", config.slotName());
        Connection replication = null;
        try {
            replication = DriverManager.getConnection(config.jdbcUrl(), config.replicationProperties());
            try (Statement s = replication.createStatement();
                 ResultSet rs = s.executeQuery(FailoverSlot.exportingCommand(config))) {
                rs.next();
                long lsn = org.postgresql.replication.LogSequenceNumber.valueOf(rs.getString("consistent_point")).asLong();
                return new ExportedSnapshot(replication, rs.getString("snapshot_name"), lsn);
            }
        } catch (SQLException e) {
            if (replication != null) {
                new ExportedSnapshot(replication, null, 0).close();
            }
            throw new ConnectException("Cannot create replication slot \"" + config.slotName() + "\" in " + where() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Turns failover on for the existing slot (inactive: no other reader holds it). */
    private void enableFailover() {
        log.info("Making replication slot {} a failover slot (slot.failover)", config.slotName());
        try (Connection replication = DriverManager.getConnection(config.jdbcUrl(), config.replicationProperties());
             Statement s = replication.createStatement()) {
            s.execute(FailoverSlot.enablingCommand(config));
        } catch (SQLException e) {
            throw new ConnectException("Cannot make replication slot \"" + config.slotName() + "\" in " + where()
                    + " a failover slot: " + e.getMessage(), e);
        }
    }

    /** What a PostgreSQL 17+ invalidation reason means for the operator, after a colon. */
    static String invalidationCause(String reason) {
        return switch (reason) {
            case "wal_removed" -> ": the WAL it held was removed, as max_slot_wal_keep_size was exceeded";
            case "rows_removed" -> ": catalog rows it needed were removed (on a standby: turn hot_standby_feedback on)";
            case "wal_level_insufficient" -> ": wal_level was set below logical";
            case "idle_timeout" -> ": it was unused for longer than idle_replication_slot_timeout";
            default -> "";
        };
    }

    /** An LSN the catalog printed as a number; 0 for none. */
    private static long lsn(String number) {
        return number == null ? 0 : Long.parseUnsignedLong(number);
    }

    private static String lsnText(long lsn) {
        return org.postgresql.replication.LogSequenceNumber.valueOf(lsn).asString();
    }

    private static String queryString(Connection connection, String sql) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while waiting for the replication slot", e);
        }
    }
}
