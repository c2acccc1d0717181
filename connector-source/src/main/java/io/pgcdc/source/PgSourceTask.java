package io.pgcdc.source;

import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the replication reader, the emitter and the queue; confirms the slot after Connect stores offsets. */
public final class PgSourceTask extends SourceTask {

    private static final Logger log = LoggerFactory.getLogger(PgSourceTask.class);

    // commit() runs on Connect's offset-commit thread, possibly while start() is still running.
    private volatile SourceConfig config;
    private volatile Map<String, String> partition;
    private volatile RecordQueue queue;
    private volatile ReplicationReader reader;
    private volatile ChangeEventEmitter emitter;
    private volatile JdbcCatalog catalog;
    private volatile Thread readerThread;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new SourceConfig(props);
        partition = SourceOffset.partition(config.dbname(), config.slotName());
        SourceOffset stored = storedOffset();
        new ReplicationSetup(config).run(stored);
        log.info("Starting slot {} after stored offset {}", config.slotName(), stored);

        queue = new RecordQueue(config.maxQueueSize(), config.maxQueueSizeBytes());
        catalog = new JdbcCatalog(config);
        reader = new ReplicationReader(config, queue);
        ChangeRecordFactory records = new ChangeRecordFactory(partition, config.topicPrefix(), config.dbname(), version());
        ChangeEventEmitter newEmitter = new ChangeEventEmitter(config, catalog, records, stored, reader::enqueue);
        reader.emitter(newEmitter);
        emitter = newEmitter;
        readerThread = new Thread(reader, "pgcdc-replication-" + config.slotName());
        readerThread.setDaemon(true);
        readerThread.start();
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        reader.throwIfFailed();
        List<SourceRecord> records = queue.drain(config.maxBatchSize(), config.pollIntervalMs());
        return records.isEmpty() ? null : records;
    }

    /** Called by Connect after it stored offsets: read them back and confirm what they make safe. */
    @Override
    public void commit() {
        ReplicationReader reader = this.reader;
        ChangeEventEmitter emitter = this.emitter;
        if (reader == null || emitter == null) {
            return;
        }
        try {
            long target = FlushTarget.of(storedOffset(), emitter.quietPoint());
            if (target != 0) {
                reader.requestFlush(target);
            }
        } catch (RuntimeException e) {
            // The slot keeps its position; the next commit tries again.
            log.warn("Cannot read back stored offsets to confirm slot {}: {}", config.slotName(), e.getMessage());
        }
    }

    private SourceOffset storedOffset() {
        return SourceOffset.fromMap(context.offsetStorageReader().offset(partition));
    }

    @Override
    public void stop() {
        long started = System.nanoTime();
        if (reader != null) {
            reader.stop();
        }
        if (readerThread != null) {
            readerThread.interrupt();
            try {
                readerThread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // The catalog connection belongs to the reader thread; close it only once that thread is gone.
        if (catalog != null && (readerThread == null || !readerThread.isAlive())) {
            catalog.close();
        }
        log.info("Stopped reading slot {} in {} ms", config == null ? null : config.slotName(),
                (System.nanoTime() - started) / 1_000_000);
    }
}
