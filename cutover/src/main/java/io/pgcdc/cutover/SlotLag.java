package io.pgcdc.cutover;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * How far the source connector's replication slot is behind the source's WAL. The WAL is the whole
 * server's, so writes to other databases count too, and an idle connector confirms the server's
 * position only every status interval: a small lag with equal tables is normal.
 */
public record SlotLag(String slot, boolean active, String confirmedFlushLsn, String currentLsn, long bytes) {

    private static final String SQL = "SELECT active, confirmed_flush_lsn::text, pg_current_wal_lsn()::text, "
            + "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
            + "FROM pg_catalog.pg_replication_slots WHERE slot_name = ? AND database = current_database()";

    /** The slot's lag; an IllegalArgumentException when the source database has no such logical slot. */
    static SlotLag read(Connection source, String slot) throws SQLException {
        try (PreparedStatement ps = source.prepareStatement(SQL)) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(2) == null) {
                    throw new IllegalArgumentException("The source database has no logical replication slot \"" + slot + "\"");
                }
                return new SlotLag(slot, rs.getBoolean(1), rs.getString(2), rs.getString(3), rs.getLong(4));
            }
        }
    }

    public String line() {
        return String.format("slot %s (%s): confirmed to %s, %,d bytes behind the source's WAL at %s", slot,
                active ? "active" : "INACTIVE: no connector reads it", confirmedFlushLsn, bytes, currentLsn);
    }
}
