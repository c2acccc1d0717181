package io.pgcdc.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

import io.pgcdc.source.schema.Envelope;
import io.pgcdc.source.schema.TableSchema;

/** Builds the Connect records: change events, tombstones, and transaction BEGIN/END markers. */
final class ChangeRecordFactory {

    static final String STATUS_BEGIN = "BEGIN";
    static final String STATUS_END = "END";
    /** On a key change's delete: the new key. Debezium's name, which its JDBC sink and others know. */
    static final String NEW_KEY_HEADER = "__debezium.newkey";
    /** On a key change's create: the old key. */
    static final String OLD_KEY_HEADER = "__debezium.oldkey";

    static final Schema TRANSACTION_KEY_SCHEMA = SchemaBuilder.struct().name("io.pgcdc.source.TransactionMetadataKey")
            .field("id", Schema.STRING_SCHEMA).build();
    static final Schema DATA_COLLECTION_SCHEMA = SchemaBuilder.struct().name("io.pgcdc.source.DataCollection")
            .field("data_collection", Schema.STRING_SCHEMA)
            .field("event_count", Schema.INT64_SCHEMA).build();
    static final Schema TRANSACTION_VALUE_SCHEMA = SchemaBuilder.struct().name("io.pgcdc.source.TransactionMetadataValue")
            .field("status", Schema.STRING_SCHEMA)
            .field("id", Schema.STRING_SCHEMA)
            .field("event_count", Schema.OPTIONAL_INT64_SCHEMA)
            .field("data_collections", SchemaBuilder.array(DATA_COLLECTION_SCHEMA).optional().build())
            .field("ts_ms", Schema.INT64_SCHEMA)
            .field("lsn_commit", Schema.INT64_SCHEMA)
            .field("lsn_end", Schema.OPTIONAL_INT64_SCHEMA)
            .build();

    private final Map<String, String> partition;
    private final String connectorName;
    private final String database;
    private final String transactionTopic;
    private final String version;

    ChangeRecordFactory(Map<String, String> partition, String topicPrefix, String database, String version) {
        this.partition = partition;
        this.connectorName = topicPrefix;
        this.database = database;
        this.transactionTopic = topicPrefix + ".transaction";
        this.version = version;
    }

    /** The facts about the current transaction that every change record carries. */
    record Transaction(long xid, long commitLsn, long commitTimeMicros) {
        String id() {
            return xid + ":" + commitLsn;
        }

        long commitTimeMillis() {
            return Math.floorDiv(commitTimeMicros, 1000L);
        }
    }

    SourceRecord change(TableSchema table, Transaction tx, String op, Struct key, Struct before, Struct after,
                        List<String> unchangedToast, long changeLsn, int changeIndex, Struct transactionBlock,
                        SourceOffset offset) {
        Struct source = new Struct(Envelope.SOURCE_SCHEMA_DEF)
                .put(Envelope.SOURCE_VERSION, version)
                .put(Envelope.SOURCE_CONNECTOR, "pgcdc")
                .put(Envelope.SOURCE_NAME, connectorName)
                .put(Envelope.SOURCE_TS_MS, tx.commitTimeMillis())
                .put(Envelope.SOURCE_TS_US, tx.commitTimeMicros())
                .put(Envelope.SOURCE_DB, database)
                .put(Envelope.SOURCE_SCHEMA, table.schemaName())
                .put(Envelope.SOURCE_TABLE, table.tableName())
                .put(Envelope.SOURCE_TX_ID, tx.xid())
                .put(Envelope.SOURCE_LSN, changeLsn)
                .put(Envelope.SOURCE_LSN_COMMIT, tx.commitLsn())
                .put(Envelope.SOURCE_CHANGE_INDEX, changeIndex)
                .put(Envelope.SOURCE_UNCHANGED_TOAST, unchangedToast.isEmpty() ? null : unchangedToast);
        Struct value = new Struct(table.envelopeSchema())
                .put(Envelope.BEFORE, before)
                .put(Envelope.AFTER, after)
                .put(Envelope.SOURCE, source)
                .put(Envelope.OP, op)
                .put(Envelope.TS_MS, System.currentTimeMillis());
        if (transactionBlock != null) {
            value.put(Envelope.TRANSACTION, transactionBlock);
        }
        // A truncate has no key: neither has its record, as in Debezium.
        return new SourceRecord(partition, offset.toMap(), table.topic(), null, key == null ? null : table.keySchema(), key,
                table.envelopeSchema(), value, tx.commitTimeMillis());
    }

    /**
     * A row read by a snapshot: op 'r', {@code source.snapshot} as Debezium sets it: "true", "last" for the initial
     * snapshot's last row, "incremental" for a signalled snapshot's rows.
     */
    SourceRecord snapshotRow(TableSchema table, Transaction tx, Struct key, Struct row, String snapshot, SourceOffset offset) {
        SourceRecord record = change(table, tx, "r", key, null, row, List.of(), tx.commitLsn(), 0, null, offset);
        ((Struct) record.value()).getStruct(Envelope.SOURCE).put(Envelope.SOURCE_SNAPSHOT, snapshot);
        return record;
    }

    Struct transactionBlock(Transaction tx, long totalOrder, long tableOrder) {
        return new Struct(Envelope.TRANSACTION_BLOCK_SCHEMA)
                .put(Envelope.TX_ID, tx.id())
                .put(Envelope.TX_TOTAL_ORDER, totalOrder)
                .put(Envelope.TX_DATA_COLLECTION_ORDER, tableOrder);
    }

    /** A tombstone has no value and so no value schema: the envelope schema is required and cannot be null. */
    SourceRecord tombstone(TableSchema table, Transaction tx, Struct key, SourceOffset offset) {
        return new SourceRecord(partition, offset.toMap(), table.topic(), null, table.keySchema(), key,
                null, null, tx.commitTimeMillis());
    }

    SourceRecord begin(Transaction tx, SourceOffset offset) {
        Struct value = transactionValue(STATUS_BEGIN, tx).put("lsn_end", null);
        return transactionRecord(tx, value, offset);
    }

    SourceRecord end(Transaction tx, long endLsn, long eventCount, Map<String, Long> perTable, SourceOffset offset) {
        List<Struct> collections = new ArrayList<>(perTable.size());
        perTable.forEach((name, count) -> collections.add(new Struct(DATA_COLLECTION_SCHEMA)
                .put("data_collection", name).put("event_count", count)));
        Struct value = transactionValue(STATUS_END, tx)
                .put("event_count", eventCount)
                .put("data_collections", collections)
                .put("lsn_end", endLsn);
        return transactionRecord(tx, value, offset);
    }

    private Struct transactionValue(String status, Transaction tx) {
        return new Struct(TRANSACTION_VALUE_SCHEMA)
                .put("status", status)
                .put("id", tx.id())
                .put("ts_ms", tx.commitTimeMillis())
                .put("lsn_commit", tx.commitLsn());
    }

    private SourceRecord transactionRecord(Transaction tx, Struct value, SourceOffset offset) {
        Struct key = new Struct(TRANSACTION_KEY_SCHEMA).put("id", tx.id());
        return new SourceRecord(partition, offset.toMap(), transactionTopic, null, TRANSACTION_KEY_SCHEMA, key,
                TRANSACTION_VALUE_SCHEMA, value, tx.commitTimeMillis());
    }
}
