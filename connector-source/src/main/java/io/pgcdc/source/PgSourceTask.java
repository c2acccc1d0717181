package io.pgcdc.source;

import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.apache.kafka.connect.source.TransactionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.pgcdc.source.schema.TableSchemaBuilder;

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
    private final SourceMetrics metrics = new SourceMetrics();
    // Set with transaction.boundary=connector: Kafka transactions of whole PostgreSQL transactions.
    private volatile TransactionContext transactions;
    // With connector-defined transactions, the newest closing offset committed with its Kafka
    // transaction: Connect reports committed records only after the transaction (offsets included)
    // commits, so nothing needs reading back.
    private volatile SourceOffset committed;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new SourceConfig(props);
        partition = SourceOffset.partition(config.dbname(), config.slotName());
        ReplicationSetup.Start setup = new ReplicationSetup(config).run(storedOffset());
        SourceOffset resumeFrom = setup.resumeFrom();
        committed = resumeFrom;
        transactions = context.transactionContext();
        log.info("Starting slot {} after stored offset {}", config.slotName(), resumeFrom);

        queue = new RecordQueue(config.maxQueueSize(), config.maxQueueSizeBytes());
        catalog = new JdbcCatalog(config);
        metrics.queue(queue);
        metrics.register(props.getOrDefault("name", config.slotName()), 0);
        TableSchemaBuilder schemas = TableSchemaBuilder.of(config);
        reader = new ReplicationReader(config, queue, catalog, schemas, metrics);
        ChangeRecordFactory records = new ChangeRecordFactory(partition, config.topicPrefix(), config.dbname(), version());
        ChangeEventEmitter newEmitter = new ChangeEventEmitter(config, catalog, schemas, records, resumeFrom,
                reader::enqueue, metrics);
        reader.emitter(newEmitter);
        if (ReplicationSetup.snapshotNeeded(config, resumeFrom)) {
            reader.snapshotFirst(new Snapshotter(config, catalog, schemas, records, metrics), setup.exported(), resumeFrom);
        }
        if (config.snapshotMode() == SourceConfig.SnapshotMode.INITIAL_ONLY) {
            reader.noStreaming();
        }
        emitter = newEmitter;
        readerThread = new Thread(reader, "pgcdc-replication-" + config.slotName());
        readerThread.setDaemon(true);
        readerThread.start();
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        reader.throwIfFailed();
        List<SourceRecord> records = queue.drain(config.maxBatchSize(), config.pollIntervalMs());
        TransactionContext transactions = this.transactions;
        if (transactions != null) {
            // A Kafka transaction ends only where a PostgreSQL transaction ends, at the last such place in
            // the batch: whole PostgreSQL transactions, one commit per poll rather than one per transaction
            // (a commit is a broker round trip; one per small transaction caps the task near 300/s).
            for (int i = records.size() - 1; i >= 0; i--) {
                if (SourceOffset.closesTransaction(records.get(i).sourceOffset())) {
                    transactions.commitTransaction(records.get(i));
                    break;
                }
            }
            if (records.isEmpty()) {
                // No transaction, so Connect calls no commit(): an idle slot still has to advance.
                commit();
            }
        }
        return records.isEmpty() ? null : records;
    }

    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        if (transactions != null && SourceOffset.closesTransaction(record.sourceOffset())) {
            committed = SourceOffset.fromMap(record.sourceOffset());
        }
    }

    /**
     * Called by Connect after it stored offsets: confirm what they make safe. Offsets are read
     * back from the store (Connect may have stored fewer than were handed to it), except with
     * connector-defined transactions, where committed records say exactly what is stored.
     */
    @Override
    public void commit() {
        ReplicationReader reader = this.reader;
        ChangeEventEmitter emitter = this.emitter;
        if (reader == null || emitter == null) {
            return;
        }
        try {
            SourceOffset stored = transactions != null ? committed : storedOffset();
            long target = FlushTarget.of(stored, emitter.quietPoint());
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
        metrics.unregister();
        // The catalog connection belongs to the reader thread; close it only once that thread is gone.
        if (catalog != null && (readerThread == null || !readerThread.isAlive())) {
            catalog.close();
        }
        log.info("Stopped reading slot {} in {} ms", config == null ? null : config.slotName(),
                (System.nanoTime() - started) / 1_000_000);
    }
}
