package io.pgcdc.benchmarks;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/**
 * The decoding ceiling: the server decodes a slot with pgoutput (proto 1) into a pgjdbc replication
 * stream that reads each message and throws it away, confirming as it goes, until it has seen one
 * insert, update or delete per row of the workload. What any pgjdbc reader, pgcdc's included, is bounded by.
 */
final class DecodingCeiling {

    private DecodingCeiling() { }

    /** Seconds from connecting to the slot until {@code rows} row changes have arrived. */
    static double drain(Database oltp, String slot, String publication, long rows, Duration timeout)
            throws SQLException, InterruptedException {
        Properties props = new Properties();
        PGProperty.USER.set(props, "postgres");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        try (Connection connection = DriverManager.getConnection(oltp.jdbcUrl(), props);
             PGReplicationStream stream = connection.unwrap(PGConnection.class).getReplicationAPI()
                     .replicationStream().logical().withSlotName(slot)
                     .withSlotOption("proto_version", 1).withSlotOption("publication_names", publication)
                     .withStatusInterval(1, TimeUnit.SECONDS).start()) {
            long seen = 0;
            while (seen < rows) {
                ByteBuffer message = stream.readPending();
                if (message == null) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("timed out after " + seen + " of " + rows + " row changes");
                    }
                    Thread.sleep(1);
                    continue;
                }
                byte type = message.get(message.position());
                if (type == 'I' || type == 'U' || type == 'D') {
                    seen++;
                }
                stream.setFlushedLSN(stream.getLastReceiveLSN());
                stream.setAppliedLSN(stream.getLastReceiveLSN());
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }
}
