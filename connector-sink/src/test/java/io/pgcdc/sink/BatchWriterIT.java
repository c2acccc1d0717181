package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.PostgresServer;

/**
 * The writer against a real PostgreSQL, without Connect: what happens between planning a batch on the
 * task's thread and writing it, which a running connector cannot order on purpose.
 */
class BatchWriterIT {

    private static final String DB = "olap";
    private static final Schema ROW = SchemaBuilder.struct().optional().name("items.Value")
            .field("id", Schema.INT64_SCHEMA)
            .field("label", Schema.OPTIONAL_STRING_SCHEMA)
            .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").build())
            .build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("items.Envelope")
            .field("before", ROW).field("after", ROW).field("source", RecordParserTest.SOURCE)
            .field("op", Schema.STRING_SCHEMA).build();

    private static PostgresServer pg;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.createDatabase(DB);
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    private static SinkRecord upsert(long offset, long id, String label, String updatedAt) {
        Struct source = new Struct(RecordParserTest.SOURCE).put("schema", "public").put("table", "items")
                .put("ts_us", 1L).put("lsn_commit", offset).put("change_index", 0).put("lsn", offset);
        Struct after = new Struct(ROW).put("id", id).put("label", label).put("updated_at", updatedAt);
        return new SinkRecord("cdc.public.items", 0, null, null, ENVELOPE,
                new Struct(ENVELOPE).put("after", after).put("source", source).put("op", "u"), offset);
    }

    @Test
    void aBatchPlannedBeforeItsTableChangedIsWrittenToTheTableAsItIsNow() throws Exception {
        pg.execute(DB, "CREATE TABLE items (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL)");
        SinkConfig config = new SinkConfig(Map.of("connection.url", pg.jdbcUrl(DB), "connection.username", "postgres",
                "topics", "cdc.public.items", "fields.missing.mode", "ignore", "max.retries", "0"));
        try (BatchWriter writer = new BatchWriter(config, null, new SinkMetrics())) {
            writer.write(writer.parse(List.of(upsert(0, 1, "one", "2026-01-01T00:00:00Z"))));

            // Planned from the description read for the first batch, which has the column "label".
            BatchWriter.Parsed planned = writer.parse(List.of(upsert(1, 2, "two", "2026-01-01T00:00:01Z")));
            assertEquals(1, planned.plans().size(), "the second batch is planned on the task's thread");
            pg.execute(DB, "ALTER TABLE items DROP COLUMN label");

            assertEquals(List.of(), writer.write(planned));
        }
        assertEquals("2", pg.queryValue(DB, "SELECT count(*) FROM items"));
        assertEquals("2026-01-01 00:00:01+00", pg.queryValue(DB, "SELECT updated_at FROM items WHERE id = 2"));
    }
}
