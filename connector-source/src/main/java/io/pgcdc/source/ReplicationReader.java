package io.pgcdc.source;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.postgresql.PGConnection;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.ServerVersion;
import org.postgresql.replication.fluent.logical.ChainedLogicalStreamBuilder;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.source.pgoutput.PgOutputDecoder;
import io.pgcdc.source.schema.TableSchemaBuilder;

/**
 * Owns the replication connection: streams pgoutput into the {@link ChangeEventEmitter},
 * confirms what the task says is durable, and reconnects with backoff when the connection
 * is lost. It is the only thread that touches the stream (pgjdbc's stream is not thread-safe).
 */
final class ReplicationReader implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ReplicationReader.class);
    private static final long IDLE_SLEEP_MS = 10;
    /**
     * How long after its last message the stream is read again at once when it has nothing (pgjdbc's
     * readPending() itself waits up to a millisecond for data), rather than after {@link #IDLE_SLEEP_MS}: while
     * changes keep coming, a sleep delayed each one. The benchmark's end-to-end p50 went from 13-15 ms to 9-11 ms.
     */
    private static final long BUSY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Rough per-record cost beyond the message bytes (objects, schema references), for the queue's byte bound. */
    private static final long RECORD_OVERHEAD_BYTES = 256;
    private static final long BACKOFF_INITIAL_MS = 200;
    private static final long BACKOFF_MAX_MS = 10_000;
    /** How long to wait before reading a chunk again whose snapshot missed a transaction already streamed. */
    private static final long CHUNK_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** SQLSTATEs after which reconnecting can succeed: a terminated backend, a restarting server, a slot still held. */
    private static final Set<String> TRANSIENT_STATES = Set.of("57P01", "57P02", "57P03", "55006", "53300");
    /** SQLSTATEs of a snapshot's SELECT naming a column or table that was dropped since the snapshot was taken. */
    private static final Set<String> DEFINITION_CHANGED = Set.of("42703", "42P01");

    private final SourceConfig config;
    private final RecordQueue queue;
    private final JdbcCatalog catalog;
    private final SourceMetrics metrics;
    private final long slotCheckIntervalNanos;
    private long nextSlotCheck;
    private final AtomicLong requestedFlush = new AtomicLong();
    private ChangeEventEmitter emitter;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private volatile Connection connection;
    private PGReplicationStream stream;
    private long sentFlush;
    private boolean streaming;
    private volatile boolean streams = true;
    private Snapshotter snapshotter;
    private volatile ReplicationSetup.ExportedSnapshot exported;
    private SourceOffset snapshotFrom;
    private final ChunkReader chunks;
    private long nextChunkRead;

    ReplicationReader(SourceConfig config, RecordQueue queue, JdbcCatalog catalog, TableSchemaBuilder schemas,
                      SourceMetrics metrics) {
        this.config = config;
        this.queue = queue;
        this.catalog = catalog;
        this.metrics = metrics;
        this.slotCheckIntervalNanos = TimeUnit.MILLISECONDS.toNanos(config.statusUpdateIntervalMs());
        this.chunks = new ChunkReader(config, catalog, schemas);
    }

    void emitter(ChangeEventEmitter emitter) {
        this.emitter = emitter;
    }

    /** The sink the emitter writes to: the queue, keeping the server informed while it is full. */
    void enqueue(org.apache.kafka.connect.source.SourceRecord record, long bytes) throws InterruptedException {
        try {
            queue.put(record, bytes, config.statusUpdateIntervalMs(), this::sendStatus);
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new StreamLost(e);
        }
    }

    /**
     * Reads the tables before streaming, continuing after {@code resumeFrom} (null: from the start),
     * under {@code exported} when a new slot exported its snapshot for it.
     */
    void snapshotFirst(Snapshotter snapshotter, ReplicationSetup.ExportedSnapshot exported, SourceOffset resumeFrom) {
        this.snapshotter = snapshotter;
        this.exported = exported;
        this.snapshotFrom = resumeFrom;
    }

    /** With snapshot.mode=initial_only: the reader stops after the snapshot. */
    void noStreaming() {
        streams = false;
    }

    /** Asks for the slot to be confirmed up to {@code lsn}; applied by the reader thread. */
    void requestFlush(long lsn) {
        requestedFlush.accumulateAndGet(lsn, Math::max);
    }

    /** Throws the reason the reader stopped, if it failed. */
    void throwIfFailed() {
        Throwable t = failure;
        if (t != null) {
            throw t instanceof ConnectException ce ? ce : new ConnectException(t.getMessage(), t);
        }
    }

    void stop() {
        running = false;
        ReplicationSetup.ExportedSnapshot unused = exported;
        if (unused != null) {
            unused.close();
        }
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the reader thread sees the closed connection and exits
            }
        }
    }

    @Override
    public void run() {
        try {
            replicate();
        } finally {
            chunks.close();
        }
    }

    private void replicate() {
        long backoff = BACKOFF_INITIAL_MS;
        while (running) {
            try {
                if (snapshotter != null) {
                    snapshot();
                }
                if (!streams) {
                    log.info("Snapshot taken; not streaming (snapshot.mode=initial_only)");
                    return;
                }
                stream();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (SQLException | StreamLost | RetriableException e) {
                if (!running) {
                    return;
                }
                if (!isTransient(e)) {
                    fail(e);
                    return;
                }
                log.warn("Replication connection to {}:{} lost ({}); reconnecting in {} ms", config.hostname(),
                        config.port(), e.getMessage(), backoff);
                emitter.reset();
                metrics.reconnected();
                if (streaming) {
                    backoff = BACKOFF_INITIAL_MS; // it had been streaming: a fresh loss, not a failing reconnect
                    streaming = false;
                }
                if (!sleep(backoff)) {
                    return;
                }
                backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
                continue;
            } catch (RuntimeException | Error e) {
                if (running) {
                    fail(e);
                }
                return;
            } finally {
                closeConnection();
            }
        }
    }

    /**
     * An exported snapshot serves one attempt: after a lost connection the rows left are read from the
     * last one handed over, in chunks while streaming (see {@link Snapshotter}).
     */
    private void snapshot() throws SQLException, InterruptedException {
        ReplicationSetup.ExportedSnapshot export = exported;
        exported = null;
        Snapshotter.Source source = export == null ? new Snapshotter.Source(null, 0)
                : new Snapshotter.Source(export.name(), export.lsn());
        try {
            SourceOffset last = snapshotter.run(source, snapshotFrom, () -> {
                if (export != null) {
                    export.close();
                }
            }, this::enqueue, streams ? emitter::resumeInChunks : null);
            emitter.snapshotEmitted(last);
            snapshotter = null;
        } catch (SQLException e) {
            snapshotFrom = snapshotter.handedOver();
            if (DEFINITION_CHANGED.contains(e.getSQLState())) {
                // The snapshot sees a table as it was, but its SELECT is planned against the table as it is:
                // altered or dropped meanwhile. Read in chunks while streaming, each chunk sees the table as it is.
                throw new RetriableException("A captured table changed during the snapshot (" + e.getMessage()
                        + "); reading on from the last row sent", e);
            }
            throw e;
        } catch (RuntimeException e) {
            snapshotFrom = snapshotter.handedOver();
            throw e;
        } finally {
            if (export != null) {
                export.close();
            }
        }
    }

    private void stream() throws SQLException, InterruptedException {
        connection = DriverManager.getConnection(config.jdbcUrl(), config.replicationProperties());
        long start = emitter.startLsn();
        ChainedLogicalStreamBuilder builder = connection.unwrap(PGConnection.class).getReplicationAPI()
                .replicationStream().logical()
                .withSlotName(config.slotName())
                .withSlotOption("proto_version", 1)
                .withSlotOption("publication_names", Sql.quote(config.publicationName()));
        if (connection.unwrap(BaseConnection.class).haveMinimumServerVersion(ServerVersion.v14)) {
            builder.withSlotOption("messages", true); // signals and snapshot watermarks
        } else {
            log.warn("PostgreSQL before 14 sends no logical decoding messages: signals ({}) are not read",
                    config.signalPrefix());
        }
        stream = builder
                .withStartPosition(LogSequenceNumber.valueOf(start))
                .withStatusInterval(config.statusUpdateIntervalMs(), TimeUnit.MILLISECONDS)
                .withAutomaticFlush(false)
                .start();
        sentFlush = 0;
        streaming = true;
        log.info("Streaming slot {} of {} from {}", config.slotName(), config.dbname(), LogSequenceNumber.valueOf(start));
        long lastMessage = System.nanoTime();
        while (running) {
            applyFlush();
            checkSlot();
            readChunk();
            ByteBuffer message = stream.readPending();
            if (message == null) {
                long received = stream.getLastReceiveLSN().asLong();
                long now = System.nanoTime();
                metrics.received(received);
                emitter.idle(received, now);
                if (now - lastMessage >= BUSY_NANOS) {
                    Thread.sleep(IDLE_SLEEP_MS);
                }
                continue;
            }
            lastMessage = System.nanoTime();
            long lsn = stream.getLastReceiveLSN().asLong();
            metrics.received(lsn);
            long bytes = message.remaining() + RECORD_OVERHEAD_BYTES;
            emitter.accept(PgOutputDecoder.decode(message), lsn, bytes);
        }
    }

    /** Reads the signalled snapshot's next chunk when one is due; the stream waits meanwhile. */
    private void readChunk() throws SQLException {
        IncrementalSnapshot incremental = emitter.incremental();
        if (!incremental.wantsChunk() || !emitter.betweenTransactions() || System.nanoTime() - nextChunkRead < 0) {
            return;
        }
        String table = incremental.table();
        try {
            IncrementalSnapshot.Chunk chunk = chunks.read(table, incremental.lastKey());
            if (incremental.lastKey() == null) {
                metrics.snapshotTable(table, chunk.table().estimatedRows());
            }
            if (!incremental.chunkRead(chunk)) {
                log.debug("Chunk of {} read again: a transaction already streamed was not visible to it yet", table);
                nextChunkRead = System.nanoTime() + CHUNK_RETRY_NANOS;
            }
        } catch (ChunkReader.NotReadable e) {
            log.error("Signalled snapshot of {} skipped: {}", table, e.getMessage());
            incremental.skipTable();
        }
    }

    private void applyFlush() throws SQLException {
        long target = requestedFlush.get();
        if (target > sentFlush) {
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(target);
            stream.setFlushedLSN(lsn);
            stream.setAppliedLSN(lsn);
            stream.forceUpdateStatus();
            sentFlush = target;
            metrics.confirmed(target);
            log.debug("Confirmed slot {} up to {}", config.slotName(), lsn);
        }
    }

    private void sendStatus() throws SQLException {
        if (stream != null) { // null while a snapshot fills the queue: nothing streams yet
            applyFlush();
            stream.forceUpdateStatus();
        }
        checkSlot();
    }

    /**
     * Reads the slot's figures for the metrics, once per status interval: on the reader thread, or during the initial
     * snapshot on a snapshot thread blocked on a full queue, which holds the snapshot's lock; one at a time either way.
     */
    private void checkSlot() {
        long now = System.nanoTime();
        if (now - nextSlotCheck < 0) {
            return;
        }
        nextSlotCheck = now + slotCheckIntervalNanos;
        try {
            metrics.slot(catalog.slotState(config.slotName()), System.currentTimeMillis());
        } catch (SQLException e) {
            log.debug("Cannot read the state of slot {}: {}", config.slotName(), e.getMessage());
        }
    }

    private boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RetriableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || TRANSIENT_STATES.contains(state)) {
                    return true;
                }
            }
        }
        return false;
    }

    private void fail(Throwable e) {
        log.error("Replication from slot {} failed", config.slotName(), e);
        ConnectException slotLost = ReplicationSetup.slotLost(config, e);
        if (slotLost != null) {
            failure = slotLost;
            return;
        }
        failure = e instanceof ConnectException ? e : new ConnectException("Replication from slot " + config.slotName()
                + " of " + config.hostname() + ":" + config.port() + "/" + config.dbname() + " failed: " + e.getMessage(), e);
    }

    private void closeConnection() {
        Connection c = connection;
        connection = null;
        stream = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    private boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The connection failed while the reader waited on a full queue. */
    private static final class StreamLost extends RuntimeException {
        StreamLost(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }
}
