package io.pgcdc.source;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What {@code slot.failover} needs of the server, and how the slot is made one. A failover slot (PostgreSQL
 * 17+) is copied to standbys running with {@code sync_replication_slots = on}; the copy is safe to resume
 * from after a promotion only if the slot never confirms changes those standbys lack, which the primary
 * ensures when {@code synchronized_standby_slots} names their physical slots.
 */
final class FailoverSlot {

    private FailoverSlot() { }

    /** Why the server cannot make the slot a failover slot; null when it can, or when failover is off. */
    static String unsupported(SourceConfig config, Connection connection, String where) throws SQLException {
        if (!config.slotFailover()) {
            return null;
        }
        int major = connection.getMetaData().getDatabaseMajorVersion();
        if (major < 17) {
            return "slot.failover needs PostgreSQL 17 or later, and " + where + " runs PostgreSQL " + major
                    + ": set slot.failover=false (after a failover, a slot on the old primary is not on the new one)";
        }
        if ("true".equals(query(connection, "SELECT pg_catalog.pg_is_in_recovery()::text"))) {
            return where + " is a standby: a failover slot is made on the primary, and standbys with "
                    + "sync_replication_slots = on copy it";
        }
        return null;
    }

    /**
     * Why a standby's copy of the slot might not be safe to resume from after a promotion; null when it is, or when
     * failover is off. Validation refuses it; a starting task only warns, as a primary just promoted has no standby
     * of its own yet and the connector must go on streaming from it.
     */
    static String unprotected(SourceConfig config, Connection connection, String where) throws SQLException {
        if (!config.slotFailover() || connection.getMetaData().getDatabaseMajorVersion() < 17) {
            return null;
        }
        String standbys = query(connection, "SELECT pg_catalog.current_setting('synchronized_standby_slots')");
        if (standbys == null || standbys.isBlank()) {
            return "synchronized_standby_slots is empty on " + where + ": the slot could confirm changes a standby has "
                    + "not received, and after a promotion the connector would resume past changes the new primary "
                    + "never had. Set it to the physical slots of the standbys that run with sync_replication_slots = on";
        }
        return null;
    }

    /** The arguments after the slot's name to {@code pg_create_logical_replication_slot}. */
    static String creationArguments(SourceConfig config) {
        // temporary, two-phase, failover (PostgreSQL 17+)
        return config.slotFailover() ? "'pgoutput', false, false, true" : "'pgoutput'";
    }

    /** The replication command creating the slot with an exported snapshot. */
    static String exportingCommand(SourceConfig config) {
        // slot.name is validated as [a-z0-9_]: safe in the replication command, which takes no parameters.
        return config.slotFailover()
                ? "CREATE_REPLICATION_SLOT " + config.slotName() + " LOGICAL pgoutput (SNAPSHOT 'export', FAILOVER true)"
                : "CREATE_REPLICATION_SLOT " + config.slotName() + " LOGICAL pgoutput EXPORT_SNAPSHOT";
    }

    /** The replication command that turns failover on for an existing, inactive slot. */
    static String enablingCommand(SourceConfig config) {
        return "ALTER_REPLICATION_SLOT " + config.slotName() + " (FAILOVER true)";
    }

    private static String query(Connection connection, String sql) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
