package io.pgcdc.source.schema;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * The change event layout, shaped like Debezium's: {@code before}, {@code after},
 * {@code source}, {@code op}, {@code ts_ms}, and {@code transaction} when transaction
 * metadata is on.
 */
public final class Envelope {

    public static final String BEFORE = "before";
    public static final String AFTER = "after";
    public static final String SOURCE = "source";
    public static final String OP = "op";
    public static final String TS_MS = "ts_ms";
    public static final String TRANSACTION = "transaction";

    public static final String SOURCE_VERSION = "version";
    public static final String SOURCE_CONNECTOR = "connector";
    public static final String SOURCE_NAME = "name";
    public static final String SOURCE_TS_MS = "ts_ms";
    public static final String SOURCE_TS_US = "ts_us";
    public static final String SOURCE_DB = "db";
    public static final String SOURCE_SCHEMA = "schema";
    public static final String SOURCE_TABLE = "table";
    public static final String SOURCE_TX_ID = "txId";
    public static final String SOURCE_LSN = "lsn";
    public static final String SOURCE_LSN_COMMIT = "lsn_commit";
    public static final String SOURCE_CHANGE_INDEX = "change_index";
    /** Columns whose values were not sent because they are unchanged TOAST: unknown, not null. */
    public static final String SOURCE_UNCHANGED_TOAST = "unchanged_toast";
    /** As in Debezium: "true" for rows read by a snapshot, "last" for the snapshot's last row, "false" when streamed. */
    public static final String SOURCE_SNAPSHOT = "snapshot";

    public static final Schema SOURCE_SCHEMA_DEF = SchemaBuilder.struct().name("io.pgcdc.source.Source")
            .field(SOURCE_VERSION, Schema.STRING_SCHEMA)
            .field(SOURCE_CONNECTOR, Schema.STRING_SCHEMA)
            .field(SOURCE_NAME, Schema.STRING_SCHEMA)
            .field(SOURCE_TS_MS, Schema.INT64_SCHEMA)
            .field(SOURCE_TS_US, Schema.INT64_SCHEMA)
            .field(SOURCE_DB, Schema.STRING_SCHEMA)
            .field(SOURCE_SCHEMA, Schema.STRING_SCHEMA)
            .field(SOURCE_TABLE, Schema.STRING_SCHEMA)
            .field(SOURCE_TX_ID, Schema.INT64_SCHEMA)
            .field(SOURCE_LSN, Schema.INT64_SCHEMA)
            .field(SOURCE_LSN_COMMIT, Schema.INT64_SCHEMA)
            .field(SOURCE_CHANGE_INDEX, Schema.INT32_SCHEMA)
            .field(SOURCE_UNCHANGED_TOAST, SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
            .field(SOURCE_SNAPSHOT, SchemaBuilder.string().optional().defaultValue("false").build())
            .build();

    public static final String TX_ID = "id";
    public static final String TX_TOTAL_ORDER = "total_order";
    public static final String TX_DATA_COLLECTION_ORDER = "data_collection_order";

    public static final Schema TRANSACTION_BLOCK_SCHEMA = SchemaBuilder.struct().name("event.block").optional()
            .field(TX_ID, Schema.STRING_SCHEMA)
            .field(TX_TOTAL_ORDER, Schema.INT64_SCHEMA)
            .field(TX_DATA_COLLECTION_ORDER, Schema.INT64_SCHEMA)
            .build();

    private Envelope() {
    }

    public static Schema schema(String name, Schema rowSchema, boolean transactionBlock) {
        SchemaBuilder builder = SchemaBuilder.struct().name(name)
                .field(BEFORE, rowSchema)
                .field(AFTER, rowSchema)
                .field(SOURCE, SOURCE_SCHEMA_DEF)
                .field(OP, Schema.STRING_SCHEMA)
                .field(TS_MS, Schema.OPTIONAL_INT64_SCHEMA);
        if (transactionBlock) {
            builder.field(TRANSACTION, TRANSACTION_BLOCK_SCHEMA);
        }
        return builder.build();
    }
}
