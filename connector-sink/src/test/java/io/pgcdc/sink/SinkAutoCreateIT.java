package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * auto.create and auto.evolve against a real PostgreSQL and a real Connect worker: tables made from
 * the records' schemas (checked by the catalog's own description of them), then written to and
 * guarded as any other table.
 */
class SinkAutoCreateIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String DB = SinkTestBed.DB;
    private static SinkTestBed bed;
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;
    private static KafkaProducer<byte[], byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink-auto-create");
        pg = bed.pg;
        connect = bed.connect;
        producer = bed.producer;
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    // ---- records in this project's source envelope, with schemas ----------------------------------------

    private static final JsonConverter WITH_SCHEMAS = SinkTestBed.converter(true);
    private static final JsonConverter SCHEMALESS = SinkTestBed.converter(false);


    private static final Schema SOURCE = SchemaBuilder.struct().name("io.pgcdc.source.Source")
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("ts_us", Schema.INT64_SCHEMA).field("lsn_commit", Schema.INT64_SCHEMA)
            .field("change_index", Schema.INT32_SCHEMA).field("lsn", Schema.INT64_SCHEMA).build();

    private static Schema envelope(Schema row) {
        return SchemaBuilder.struct().field("before", row).field("after", row).field("source", SOURCE)
                .field("op", Schema.STRING_SCHEMA).build();
    }

    private static Schema named(SchemaBuilder builder, String name) {
        return builder.name(name).optional().build();
    }

    private static final Schema ZONED_TIMESTAMP = named(SchemaBuilder.string(), "io.debezium.time.ZonedTimestamp");

    /** A key in the row's middle and the primary key in another order: the key schema decides. */
    private static final Schema KEY = SchemaBuilder.struct().name("everything.Key")
            .field("tenant", Schema.INT32_SCHEMA).field("id", Schema.INT64_SCHEMA).build();

    private static SchemaBuilder everythingFields() {
        return SchemaBuilder.struct().optional().name("everything.Value")
                .field("id", Schema.INT64_SCHEMA)
                .field("tenant", Schema.INT32_SCHEMA)
                .field("small", Schema.OPTIONAL_INT16_SCHEMA)
                .field("qty", Schema.OPTIONAL_INT32_SCHEMA)
                .field("amount", Decimal.builder(2).parameter("connect.decimal.precision", "12").optional().build())
                .field("note", Schema.OPTIONAL_STRING_SCHEMA)
                .field("ok", Schema.OPTIONAL_BOOLEAN_SCHEMA)
                .field("bin", Schema.OPTIONAL_BYTES_SCHEMA)
                .field("happened", ZONED_TIMESTAMP)
                .field("local_ts", named(SchemaBuilder.int64(), "io.debezium.time.MicroTimestamp"))
                .field("day", named(SchemaBuilder.int32(), "io.debezium.time.Date"))
                .field("uid", named(SchemaBuilder.string(), "io.debezium.data.Uuid"))
                .field("doc", named(SchemaBuilder.string(), "io.debezium.data.Json"))
                .field("nums", SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA).optional().build())
                .field("took", named(SchemaBuilder.int64(), "io.debezium.time.MicroDuration"))
                .field("ratio", Schema.OPTIONAL_FLOAT64_SCHEMA)
                .field("updated_at", ZONED_TIMESTAMP);
    }

    private static final Schema EVERYTHING = everythingFields().build();
    /** The same table after a column was added at the source. */
    private static final Schema EVERYTHING_V2 = everythingFields().field("extra", Schema.OPTIONAL_STRING_SCHEMA)
            .field("grade", Decimal.builder(1).parameter("connect.decimal.precision", "3").optional().build()).build();

    private static Struct everything(Schema schema, long id, String note, String updatedAt) {
        long micros = LocalDateTime.of(2024, 2, 29, 13, 14, 15).toEpochSecond(ZoneOffset.UTC) * 1_000_000L + 123_456;
        return new Struct(schema).put("id", id).put("tenant", 7).put("small", (short) -3).put("qty", 42)
                .put("amount", new BigDecimal("1234567890.12")).put("note", note).put("ok", true)
                .put("bin", new byte[] {(byte) 0xde, (byte) 0xad}).put("happened", "2024-02-29T11:14:15.123456Z")
                .put("local_ts", micros).put("day", 19782).put("uid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
                .put("doc", "{\"a\": [1, \"x\"]}").put("nums", Arrays.asList(1, null, 3)).put("took", 5_400_000_000L)
                .put("ratio", 0.25).put("updated_at", updatedAt);
    }

    /** The same row with only what it must have: every optional column null. */
    private static Struct sparse(Schema schema, long id, String updatedAt) {
        return new Struct(schema).put("id", id).put("tenant", 7).put("updated_at", updatedAt);
    }

    private static Struct key(long id) {
        return new Struct(KEY).put("tenant", 7).put("id", id);
    }

    private static void ensureTopic(String topic) {
        bed.createTopicOnce(topic);
    }

    private static long lsn = 100;

    private static void send(String topic, Schema keySchema, Struct key, Struct after) {
        String table = topic.substring(topic.lastIndexOf('.') + 1);
        Schema envelope = envelope(after.schema());
        long commitLsn = lsn++;
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", table)
                .put("ts_us", 1_735_689_600_000_000L + commitLsn).put("lsn_commit", commitLsn).put("change_index", 0).put("lsn", commitLsn);
        Struct value = new Struct(envelope).put("after", after).put("source", source).put("op", "c");
        ensureTopic(topic);
        byte[] keyBytes = keySchema == null ? null : WITH_SCHEMAS.fromConnectData(topic, keySchema, key);
        producer.send(new ProducerRecord<>(topic, 0, keyBytes, WITH_SCHEMAS.fromConnectData(topic, envelope, value)));
    }

    private static Map<String, String> sinkConfig(String topic) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", PgSinkConnector.class.getName());
        config.put("tasks.max", "1");
        config.put("topics", topic);
        config.put("connection.url", pg.jdbcUrl(DB));
        config.put("connection.username", "postgres");
        config.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("key.converter.schemas.enable", "true");
        config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("value.converter.schemas.enable", "true");
        config.put("value.converter.decimal.format", "NUMERIC");
        config.put("auto.create", "true");
        config.put("auto.evolve", "true");
        return config;
    }

    // ---- what the database holds -----------------------------------------------------------------------

    private static List<String> rows(String sql) throws Exception {
        return bed.rows(DB, sql);
    }

    private static void awaitRows(String sql, List<String> expected) {
        Await.until(TIMEOUT, () -> "rows of " + sql + " to be " + expected + safeRows(sql), () -> rows(sql).equals(expected));
    }

    private static String safeRows(String sql) {
        try {
            return ", are " + rows(sql);
        } catch (Exception e) {
            return "";
        }
    }

    /** Each column as name, type as format_type prints it, and whether it may be null. */
    private static List<String> columns(String table) throws Exception {
        return rows("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
                + "CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END FROM pg_catalog.pg_attribute a "
                + "WHERE a.attrelid = '" + table + "'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
    }

    private static List<String> primaryKey(String table) throws Exception {
        return rows("SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint "
                + "WHERE conrelid = '" + table + "'::regclass AND contype = 'p'");
    }

    private static String awaitTaskFailure(String name) {
        return ConnectorStatus.awaitTaskFailure(connect, name, TIMEOUT);
    }

    // ---- tests -----------------------------------------------------------------------------------------

    @Test
    void aMissingTableIsCreatedFromTheSchemaThenEvolvedAndStaysGuarded() throws Exception {
        String topic = "cdc.public.everything";
        send(topic, KEY, key(1), everything(EVERYTHING, 1, "first", "2024-01-01T00:00:00Z"));
        send(topic, KEY, key(2), sparse(EVERYTHING, 2, "2024-01-01T00:00:00Z"));
        producer.flush();
        connect.configureConnector("everything", sinkConfig(topic));

        // (a) created with the types the schemas name, the key's columns as primary key, every column nullable
        String everything = "SELECT id, tenant, small, qty, amount, note, ok, bin, happened, local_ts, day, uid, doc, nums, "
                + "took, ratio, updated_at FROM public.everything ORDER BY id";
        String first = "1|7|-3|42|1234567890.12|first|t|\\xdead|2024-02-29 11:14:15.123456+00|2024-02-29 13:14:15.123456|"
                + "2024-02-29|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{\"a\": [1, \"x\"]}|{1,NULL,3}|01:30:00|0.25|"
                + "2024-01-01 00:00:00+00";
        String second = "2|7|null|null|null|null|null|null|null|null|null|null|null|null|null|null|2024-01-01 00:00:00+00";
        awaitRows(everything, List.of(first, second));
        assertEquals(List.of("id|bigint|not null", "tenant|integer|not null", "small|smallint|null", "qty|integer|null",
                "amount|numeric(12,2)|null", "note|text|null", "ok|boolean|null", "bin|bytea|null",
                "happened|timestamp with time zone|null", "local_ts|timestamp without time zone|null", "day|date|null",
                "uid|uuid|null", "doc|jsonb|null", "nums|integer[]|null", "took|interval|null", "ratio|double precision|null",
                "updated_at|timestamp with time zone|null", "pgcdc_position|bigint|null"), columns("public.everything"));
        assertEquals(List.of("PRIMARY KEY (tenant, id)"), primaryKey("public.everything"));

        // (b) a field added at the source becomes a nullable column; older rows have no value there
        send(topic, KEY, key(3), everything(EVERYTHING_V2, 3, "third", "2024-01-03T00:00:00Z")
                .put("extra", "new field").put("grade", new BigDecimal("9.5")));
        producer.flush();
        awaitRows("SELECT id, note, extra, grade FROM public.everything ORDER BY id",
                List.of("1|first|null|null", "2|null|null|null", "3|third|new field|9.5"));
        List<String> evolved = columns("public.everything");
        assertEquals(List.of("extra|text|null", "grade|numeric(3,1)|null"), evolved.subList(evolved.size() - 2, evolved.size()));

        // (c) the guard keeps working on the created table: a replayed older version changes nothing
        send(topic, KEY, key(1), everything(EVERYTHING_V2, 1, "stale", "2023-12-31T00:00:00Z"));
        send(topic, KEY, key(2), everything(EVERYTHING_V2, 2, "newer", "2024-01-04T00:00:00Z"));
        producer.flush();
        awaitRows("SELECT id, note FROM public.everything ORDER BY id", List.of("1|first", "2|newer", "3|third"));
        assertEquals(List.of(first), rows(everything.replace("ORDER BY id", "WHERE id = 1")));
        connect.deleteConnector("everything");
    }

    @Test
    void theSinksOwnColumnsAreCreatedForSourcePositionsAndSoftDeletes() throws Exception {
        Schema row = SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA)
                .field("note", Schema.OPTIONAL_STRING_SCHEMA).build();
        Schema key = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
        String topic = "cdc.public.positioned";
        send(topic, key, new Struct(key).put("id", 1L), new Struct(row).put("id", 1L).put("note", "kept"));
        send(topic, key, new Struct(key).put("id", 2L), new Struct(row).put("id", 2L).put("note", "deleted"));
        Schema envelope = envelope(row);
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "positioned")
                .put("ts_us", 1_735_689_600_000_000L).put("lsn_commit", lsn).put("change_index", 0).put("lsn", lsn++);
        producer.send(new ProducerRecord<>(topic, 0, WITH_SCHEMAS.fromConnectData(topic, key, new Struct(key).put("id", 2L)),
                WITH_SCHEMAS.fromConnectData(topic, envelope, new Struct(envelope).put("before", new Struct(row).put("id", 2L))
                        .put("source", source).put("op", "d"))));
        producer.flush();
        Map<String, String> config = sinkConfig(topic);
        config.put("upsert.guard.mode", "source_lsn");
        config.put("upsert.guard.column", "src_pos");
        config.put("delete.mode", "soft");
        connect.configureConnector("positioned", config);
        awaitRows("SELECT id, note, deleted_at IS NOT NULL FROM public.positioned ORDER BY id",
                List.of("1|kept|f", "2|deleted|t"));
        assertEquals(List.of("id|bigint|not null", "note|text|null", "src_pos|bigint|null",
                "deleted_at|timestamp with time zone|null"), columns("public.positioned"));
        connect.deleteConnector("positioned");
    }

    @Test
    void withoutAutoCreateAMissingTableIsStillAnError() {
        String topic = "cdc.public.absent";
        send(topic, KEY, key(1), sparse(EVERYTHING, 1, "2024-01-01T00:00:00Z"));
        producer.flush();
        Map<String, String> config = sinkConfig(topic);
        config.remove("auto.create");
        config.remove("auto.evolve");
        connect.configureConnector("absent", config);
        String trace = awaitTaskFailure("absent");
        assertTrue(trace.contains("Target table public.absent does not exist"), trace);
        connect.deleteConnector("absent");
    }

    @Test
    void recordsThatCannotDescribeATableAreRejectedByName() throws Exception {
        String schemaless = "raw.public.noschema";
        ensureTopic(schemaless);
        producer.send(new ProducerRecord<>(schemaless, 0, null, SCHEMALESS.fromConnectData(schemaless, null,
                Map.of("id", 1, "updated_at", "2024-01-01T00:00:00Z"))));
        producer.flush();
        Map<String, String> config = sinkConfig(schemaless);
        config.put("value.converter.schemas.enable", "false");
        connect.configureConnector("noschema", config);
        String trace = awaitTaskFailure("noschema");
        assertTrue(trace.contains("Record at raw.public.noschema-0@0 cannot create table public.noschema (auto.create): "
                + "it has no schema"), trace);
        connect.deleteConnector("noschema");

        String keyless = "cdc.public.keyless";
        send(keyless, null, null, sparse(EVERYTHING, 1, "2024-01-01T00:00:00Z"));
        producer.flush();
        connect.configureConnector("keyless", sinkConfig(keyless));
        trace = awaitTaskFailure("keyless");
        assertTrue(trace.contains("Record at cdc.public.keyless-0@0 cannot create table public.keyless (auto.create): "
                + "its key is not a Struct"), trace);
        connect.deleteConnector("keyless");
        assertEquals(List.of("0"), rows("SELECT count(*) FROM pg_catalog.pg_class WHERE relname IN ('noschema', 'keyless')"));
    }

    /** Tasks of one connector meeting the same missing table at once: each goes on, none fails. */
    @Test
    void concurrentWritersCreatingTheSameTableAllSucceed() throws Exception {
        SinkConfig config = new SinkConfig(sinkConfig("race"));
        Schema row = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).field("updated_at", ZONED_TIMESTAMP).build();
        Schema key = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).build();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 10; round++) {
                String topic = "race.public.race_" + round;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> writers = new ArrayList<>();
                for (int writer = 1; writer <= 2; writer++) {
                    SinkRecord record = new SinkRecord(topic, writer, key, new Struct(key).put("id", writer), row,
                            new Struct(row).put("id", writer).put("updated_at", "2024-01-01T00:00:00Z"), 0);
                    writers.add(threads.submit(() -> {
                        try (BatchWriter w = new BatchWriter(config, null, new SinkMetrics())) {
                            go.await();
                            w.report(w.write(w.parse(List.of(record))));
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> writer : writers) {
                    writer.get();
                }
                assertEquals(List.of("1", "2"), rows("SELECT id FROM public.race_" + round + " ORDER BY id"));
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
