package io.pgcdc.source;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;

import org.apache.kafka.connect.errors.ConnectException;

import io.pgcdc.source.IncrementalSnapshot.Chunk;
import io.pgcdc.source.schema.TableSchemaBuilder;

/**
 * Reads one chunk of a signalled snapshot: in one REPEATABLE READ transaction the snapshot's
 * visibility, then the rows after the last key, then a watermark message. The message is
 * transactional: it reaches the stream at the chunk transaction's commit, after every transaction
 * the rows reflect, and the commit flushes the WAL (PostgreSQL 15 does not flush for a
 * non-transactional message, which would reach the stream only when the WAL writer next runs).
 */
final class ChunkReader implements AutoCloseable {

    // Matched whole: schema and table names may contain dots themselves.
    private static final String IN_PUBLICATION = "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
            + "WHERE pubname = ? AND schemaname || '.' || tablename = ?";

    /** The table cannot be read by a signalled snapshot; the reason says why. */
    static final class NotReadable extends Exception {
        NotReadable(String reason) {
            super(reason);
        }
    }

    private final SourceConfig config;
    private final Catalog catalog;
    private final TableSchemaBuilder schemas;
    private Connection connection;
    // Unique per task run: a watermark replayed from before a restart must not match a chunk read after it.
    private final String watermarkPrefix = java.util.UUID.randomUUID() + ":";
    private long watermarks;

    ChunkReader(SourceConfig config, Catalog catalog, TableSchemaBuilder schemas) {
        this.config = config;
        this.catalog = catalog;
        this.schemas = schemas;
    }

    Chunk read(String qualified, String afterKey) throws SQLException, NotReadable {
        Connection c = connection();
        try {
            try (Statement s = c.createStatement()) {
                s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            }
            SnapshotTable table = describe(c, qualified);
            SnapshotVisibility visibility;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_catalog.pg_current_snapshot()::text")) {
                rs.next();
                visibility = SnapshotVisibility.parse(rs.getString(1));
            }
            LinkedHashMap<String, String[]> rows = new LinkedHashMap<>();
            String lastKey = afterKey;
            int size = config.incrementalChunkSize();
            boolean more = false;
            // One row more than a chunk tells whether this chunk is the table's last. Otherwise a table of a
            // multiple of the chunk size ends with an empty chunk, which emits no record, and the finished
            // snapshot would be stored only with the next change to arrive.
            try (PreparedStatement ps = table.select(c, afterKey, size + 1);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rows.size() == size) {
                        more = true;
                        break;
                    }
                    String[] values = table.values(rs);
                    lastKey = table.keyText(values);
                    rows.put(lastKey, values);
                }
            }
            String watermark = watermarkPrefix + ++watermarks;
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_logical_emit_message(true, ?, ?)")) {
                ps.setString(1, config.signalPrefix());
                ps.setString(2, Signal.watermark(watermark));
                ps.execute();
            }
            c.commit();
            return new Chunk(table, watermark, visibility, rows, lastKey, !more);
        } catch (SQLException e) {
            close();
            if (e.getSQLState() != null && e.getSQLState().startsWith("42")) {
                throw new NotReadable(e.getMessage()); // no privilege, or the table changed shape meanwhile
            }
            throw e;
        } catch (NotReadable | RuntimeException e) {
            close();
            throw e;
        }
    }

    private SnapshotTable describe(Connection c, String qualified) throws SQLException, NotReadable {
        Snapshotter.Table captured;
        try (PreparedStatement ps = c.prepareStatement(IN_PUBLICATION)) {
            ps.setString(1, config.publicationName());
            ps.setString(2, qualified);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new NotReadable("publication " + config.publicationName() + " does not cover it");
                }
                captured = new Snapshotter.Table(rs.getString(1), rs.getString(2));
            }
        }
        SnapshotTable table;
        try {
            table = SnapshotTable.describe(c, captured, schemas, catalog);
        } catch (ConnectException e) {
            throw new NotReadable(e.getMessage());
        }
        if (!table.keyed()) {
            throw new NotReadable("it has neither a primary key nor a replica identity index to read it in chunks by");
        }
        return table;
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = DriverManager.getConnection(config.jdbcUrl(), config.snapshotProperties());
            connection.setAutoCommit(false);
        }
        return connection;
    }

    @Override
    public void close() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // a broken connection is replaced on the next read
            }
        }
    }
}
