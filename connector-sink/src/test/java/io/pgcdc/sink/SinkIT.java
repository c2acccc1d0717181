package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.TopicReader;

/** The sink against a real PostgreSQL and a real Connect worker, records produced to Kafka in every accepted shape. */
@Tag("compat")
class SinkIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String DB = SinkTestBed.DB;
    private static SinkTestBed bed;
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;
    private static KafkaProducer<byte[], byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink");
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

    // ---- record builders -------------------------------------------------------------------------------

    private static final JsonConverter WITH_SCHEMAS = SinkTestBed.converter(true);
    private static final JsonConverter SCHEMALESS = SinkTestBed.converter(false);



    /** The broker does not create topics on first use; a send to a missing topic would block. */
    private static void ensureTopic(String topic) {
        bed.createTopicOnce(topic);
    }

    private static void send(String topic, JsonConverter converter, Schema schema, Object value) {
        ensureTopic(topic);
        producer.send(new ProducerRecord<>(topic, 0, null, converter.fromConnectData(topic, schema, value)));
    }

    private static void sendJson(String topic, String json) {
        ensureTopic(topic);
        producer.send(new ProducerRecord<>(topic, 0, null, json.getBytes(StandardCharsets.UTF_8)));
    }

    private static final Schema ORDER_ROW = SchemaBuilder.struct().optional().name("orders.Value")
            .field("id", Schema.INT64_SCHEMA)
            .field("total", Decimal.builder(2).optional().build())
            .field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
            .build();
    private static final Schema SOURCE = SchemaBuilder.struct().name("io.pgcdc.source.Source")
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("ts_us", Schema.INT64_SCHEMA).field("lsn_commit", Schema.INT64_SCHEMA)
            .field("change_index", Schema.INT32_SCHEMA).field("lsn", Schema.INT64_SCHEMA)
            .field("unchanged_toast", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build()).build();

    private static Schema envelope(Schema row) {
        return SchemaBuilder.struct().field("before", row).field("after", row).field("source", SOURCE)
                .field("op", Schema.STRING_SCHEMA).build();
    }

    private static final Schema ORDER_ENVELOPE = envelope(ORDER_ROW);

    private static Struct order(long id, String total, String note, String updatedAt) {
        return new Struct(ORDER_ROW).put("id", id).put("total", total == null ? null : new BigDecimal(total))
                .put("note", note).put("updated_at", updatedAt);
    }

    private static Struct change(Schema envelope, String table, String op, Struct before, Struct after, long commitLsn,
                                 int index, List<String> unchangedToast) {
        // Commit times after every updated_at the tests use, in commit order, as a source database would have them.
        long commitMicros = java.time.Instant.parse("2025-01-01T00:00:00Z").toEpochMilli() * 1000 + commitLsn;
        return change(envelope, table, op, before, after, commitLsn, index, unchangedToast, commitMicros);
    }

    private static Struct change(Schema envelope, String table, String op, Struct before, Struct after, long commitLsn,
                                 int index, List<String> unchangedToast, long commitMicros) {
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", table).put("ts_us", commitMicros)
                .put("lsn_commit", commitLsn).put("change_index", index).put("lsn", changeLsn(commitLsn, index))
                .put("unchanged_toast", unchangedToast);
        return new Struct(envelope).put("before", before).put("after", after).put("source", source).put("op", op);
    }

    /** A change's own WAL position: its transaction's changes are written in order, before the commit. */
    private static long changeLsn(long commitLsn, int index) {
        return commitLsn * 1_000 + index;
    }

    // ---- connector and assertions --------------------------------------------------------------------

    private static Map<String, String> sinkConfig(String topics, boolean schemas) {
        Map<String, String> config = bed.sinkConfig(topics);
        config.put("value.converter.schemas.enable", String.valueOf(schemas));
        config.put("value.converter.decimal.format", "NUMERIC");
        return config;
    }

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

    private static String awaitTaskFailure(String name) {
        return ConnectorStatus.awaitTaskFailure(connect, name, TIMEOUT);
    }

    // ---- tests ---------------------------------------------------------------------------------------

    @Test
    void replaysAndOutOfOrderChangesNeverOverwriteNewerRows() throws Exception {
        pg.execute(DB, "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2), note text, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "cdc.public.orders";
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "c", null,
                order(1, "10.00", "first", "2024-01-01T00:00:00Z"), 100, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "u", null,
                order(1, "20.00", "second", "2024-01-02T00:00:00Z"), 200, 0, null));
        // A replay of the first change and a late arrival of an even older one.
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "c", null,
                order(1, "10.00", "first", "2024-01-01T00:00:00Z"), 100, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "u", null,
                order(1, "5.00", "stale", "2023-12-31T00:00:00Z"), 50, 0, null));
        // The same key many times in one batch, and delete then re-insert.
        for (int i = 1; i <= 20; i++) {
            send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "u", null,
                    order(2, i + ".00", "v" + i, "2024-02-01T00:00:" + String.format("%02d", i) + "Z"), 300 + i, 0, null));
        }
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "c", null,
                order(3, "1.00", "to delete", "2024-03-01T00:00:00Z"), 400, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "d", order(3, null, null, null), null,
                401, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "c", null,
                order(4, "1.00", "deleted then back", "2024-03-01T00:00:00Z"), 402, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "d", order(4, null, null, null), null,
                403, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "orders", "c", null,
                order(4, "2.00", "back", "2024-03-02T00:00:00Z"), 404, 0, null));
        producer.send(new ProducerRecord<>(topic, 0, null, null)); // a tombstone is skipped
        producer.flush();

        connect.configureConnector("orders", sinkConfig(topic, true));
        awaitRows("SELECT id, total, note, updated_at FROM orders ORDER BY id", List.of(
                "1|20.00|second|2024-01-02 00:00:00+00",
                "2|20.00|v20|2024-02-01 00:00:20+00",
                "4|2.00|back|2024-03-02 00:00:00+00"));
        connect.deleteConnector("orders");
    }

    @Test
    void unchangedToastColumnsKeepTheirStoredValue() throws Exception {
        pg.execute(DB, "CREATE TABLE docs (id bigint PRIMARY KEY, total numeric(10,2), note text, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "cdc.public.docs";
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "docs", "c", null,
                order(1, "1.00", "a long body", "2024-01-01T00:00:00Z"), 10, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "docs", "u", null,
                order(1, "2.00", null, "2024-01-02T00:00:00Z"), 11, 0, List.of("note")));
        producer.flush();
        connect.configureConnector("docs", sinkConfig(topic, true));
        awaitRows("SELECT id, total, note FROM docs", List.of("1|2.00|a long body"));
        connect.deleteConnector("docs");
    }

    @Test
    void debeziumEnvelopesFlatRowsAndSchemalessMapsAllLand() throws Exception {
        pg.execute(DB, "CREATE SCHEMA inventory",
                "CREATE TABLE inventory.items (id int PRIMARY KEY, name text, qty int, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE TABLE public.flat (id int PRIMARY KEY, name text, updated_at timestamptz, pgcdc_position numeric)");
        String debezium = "dbserver1.inventory.items";
        sendJson(debezium, "{\"before\":null,\"after\":{\"id\":1,\"name\":\"hammer\",\"qty\":3,"
                + "\"updated_at\":\"2024-01-01T00:00:00Z\"},\"source\":{\"schema\":\"inventory\",\"table\":\"items\","
                + "\"ts_ms\":1717200000000,\"sequence\":\"[null,\\\"100\\\"]\",\"lsn\":100},\"op\":\"c\"}");
        sendJson(debezium, "{\"before\":{\"id\":2,\"name\":null,\"qty\":null,\"updated_at\":null},\"after\":null,"
                + "\"source\":{\"schema\":\"inventory\",\"table\":\"items\",\"ts_ms\":1717200000000,\"lsn\":90},\"op\":\"d\"}");
        sendJson("raw.public.flat", "{\"id\":7,\"name\":\"plain map\",\"updated_at\":\"2024-01-01T00:00:00Z\"}");
        producer.flush();
        pg.execute(DB, "INSERT INTO inventory.items VALUES (2, 'old', 1, '2023-01-01')");
        connect.configureConnector("debezium", sinkConfig(debezium + ",raw.public.flat", false));
        awaitRows("SELECT id, name, qty FROM inventory.items ORDER BY id", List.of("1|hammer|3"));
        awaitRows("SELECT id, name FROM public.flat", List.of("7|plain map"));
        connect.deleteConnector("debezium");

        Schema flat = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).field("name", Schema.STRING_SCHEMA)
                .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").build()).build();
        send("structs.public.flat", WITH_SCHEMAS, flat, new Struct(flat).put("id", 8).put("name", "flat struct")
                .put("updated_at", "2024-01-01T00:00:00Z"));
        producer.flush();
        connect.configureConnector("flat", sinkConfig("structs.public.flat", true));
        awaitRows("SELECT id, name FROM public.flat ORDER BY id", List.of("7|plain map", "8|flat struct"));
        connect.deleteConnector("flat");
    }

    @Test
    void everyTypeLandsInAColumnOfItsType() throws Exception {
        pg.execute(DB, "CREATE TYPE mood AS ENUM ('sad', 'happy')",
                "CREATE TABLE typed (id int PRIMARY KEY, n numeric(20,6), ts timestamp, tstz timestamptz, d date, t time, "
                        + "u uuid, j jsonb, b bytea, ok boolean, e mood, arr int[], tags text[], iv interval, f double precision, "
                        + "updated_at timestamptz, jt json, pgcdc_position numeric)");
        Schema row = SchemaBuilder.struct().optional()
                .field("id", Schema.INT32_SCHEMA)
                .field("n", Decimal.builder(6).optional().build())
                .field("ts", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
                .field("tstz", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
                .field("d", SchemaBuilder.int32().name("io.debezium.time.Date").optional().build())
                .field("t", SchemaBuilder.int64().name("io.debezium.time.MicroTime").optional().build())
                .field("u", SchemaBuilder.string().name("io.debezium.data.Uuid").optional().build())
                .field("j", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
                .field("b", Schema.OPTIONAL_BYTES_SCHEMA)
                .field("ok", Schema.OPTIONAL_BOOLEAN_SCHEMA)
                .field("e", SchemaBuilder.string().name("io.debezium.data.Enum").optional().build())
                .field("arr", SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA).optional().build())
                .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
                .field("iv", SchemaBuilder.string().name("io.debezium.time.Interval").optional().build())
                .field("f", Schema.OPTIONAL_FLOAT64_SCHEMA)
                .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
                .field("jt", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
                .build();
        Schema envelope = envelope(row);
        long micros = java.time.LocalDateTime.of(2024, 2, 29, 13, 14, 15).toEpochSecond(java.time.ZoneOffset.UTC)
                * 1_000_000L + 123_456;
        Struct value = new Struct(row).put("id", 1).put("n", new BigDecimal("12345678901234.123456")).put("ts", micros)
                .put("tstz", "2024-02-29T11:14:15.123456Z").put("d", 19782).put("t", 47_655_123_456L)
                .put("u", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").put("j", "{\"a\": [1, \"x\"]}")
                .put("b", new byte[] {(byte) 0xde, (byte) 0xad}).put("ok", true).put("e", "happy")
                .put("arr", java.util.Arrays.asList(1, null, 3)).put("tags", List.of("a b", "c,d"))
                .put("iv", "P1Y2M3DT4H5M6.5S").put("f", 1.5e-7).put("updated_at", "2024-01-01T00:00:00Z")
                .put("jt", "{\"b\": 1,  \"a\": [2], \"a\": 3}");
        send("cdc.public.typed", WITH_SCHEMAS, envelope, change(envelope, "typed", "c", null, value, 5, 0, null));
        producer.flush();
        connect.configureConnector("typed", sinkConfig("cdc.public.typed", true));
        awaitRows("SELECT n, ts, tstz, d, t, u, j, b, ok, e, arr, tags, iv, f FROM typed", List.of(
                "12345678901234.123456|2024-02-29 13:14:15.123456|2024-02-29 11:14:15.123456+00|2024-02-29|13:14:15.123456|"
                        + "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{\"a\": [1, \"x\"]}|\\xdead|t|happy|{1,NULL,3}|{\"a b\",\"c,d\"}|"
                        + "1 year 2 mons 3 days 04:05:06.5|1.5e-07"));
        // The JSON document null is a value, not SQL NULL.
        Struct jsonNull = new Struct(row).put("id", 2).put("j", "null").put("updated_at", "2024-01-01T00:00:00Z");
        send("cdc.public.typed", WITH_SCHEMAS, envelope, change(envelope, "typed", "c", null, jsonNull, 6, 0, null));
        producer.flush();
        awaitRows("SELECT id, j IS NULL, jsonb_typeof(j) FROM typed WHERE id = 2", List.of("2|f|null"));
        // A json column keeps its document's text as written; SQL NULL stays NULL.
        assertEquals(List.of("1|{\"b\": 1,  \"a\": [2], \"a\": 3}", "2|SQL NULL"),
                rows("SELECT id, coalesce(jt::text, 'SQL NULL') FROM typed ORDER BY id"));
        connect.deleteConnector("typed");

        // The same records read by the sink from JsonConverter's bytes land exactly alike.
        pg.execute(DB, "CREATE TABLE typed_bytes (LIKE typed INCLUDING ALL)");
        Map<String, String> bytes = sinkConfig("cdc.public.typed", true);
        bytes.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
        bytes.put("key.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
        bytes.put("table.name.format", "public.typed_bytes");
        connect.configureConnector("typed-bytes", bytes);
        String all = "SELECT id, n, ts, tstz, d, t, u, j, b, ok, e, arr, tags, iv, f, updated_at, jt::text FROM %s ORDER BY id";
        List<String> typed = rows(String.format(all, "typed"));
        assertEquals(2, typed.size());
        awaitRows(String.format(all, "typed_bytes"), typed);
        connect.deleteConnector("typed-bytes");
    }

    @Test
    void hostileIdentifiersWork() throws Exception {
        pg.execute(DB, "CREATE SCHEMA \"We\"\"ird\"",
                "CREATE TABLE \"We\"\"ird\".\"Order Lines\" (\"Id\" int PRIMARY KEY, \"select\" text, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "hostile";
        sendJson(topic, "{\"Id\":1,\"select\":\"'); DROP TABLE typed; --\",\"updated_at\":\"2024-01-01T00:00:00Z\"}");
        producer.flush();
        Map<String, String> config = sinkConfig(topic, false);
        config.put("table.name.format", "We\"ird.Order Lines");
        connect.configureConnector("hostile", config);
        awaitRows("SELECT \"Id\", \"select\" FROM \"We\"\"ird\".\"Order Lines\"", List.of("1|'); DROP TABLE typed; --"));
        connect.deleteConnector("hostile");
    }

    @Test
    void badRowGoesToTheDeadLetterQueueAndTheRestLands() throws Exception {
        pg.execute(DB, "CREATE TABLE short (id int PRIMARY KEY, code varchar(3), updated_at timestamptz, pgcdc_position numeric)");
        String topic = "bad.public.short";
        for (int i = 1; i <= 10; i++) {
            String code = i == 5 ? "too long" : "c" + i;
            sendJson(topic, "{\"id\":" + i + ",\"code\":\"" + code + "\",\"updated_at\":\"2024-01-01T00:00:00Z\"}");
        }
        producer.flush();
        Map<String, String> config = sinkConfig(topic, false);
        config.put("errors.tolerance", "all");
        config.put("errors.deadletterqueue.topic.name", "dlq-short");
        config.put("errors.deadletterqueue.topic.replication.factor", "1");
        config.put("errors.deadletterqueue.context.headers.enable", "true");
        connect.configureConnector("dlq", config);
        awaitRows("SELECT count(*) FROM short", List.of("9"));
        try (TopicReader reader = new TopicReader(connect.kafka(), "dlq-short")) {
            List<TopicReader.Message> dead = reader.readUntil(TIMEOUT, "the bad row in the DLQ", m -> m.size() >= 1);
            assertEquals(5, dead.get(0).value().get("id").asInt());
            String reason = dead.get(0).headers().get("__connect.errors.exception.message");
            assertTrue(reason != null && reason.contains("table public.short") && reason.contains("value too long")
                    && reason.contains("22001"), "the DLQ record says why: " + dead.get(0).headers());
        }
        connect.deleteConnector("dlq");

        pg.execute(DB, "TRUNCATE short");
        connect.configureConnector("failing", sinkConfig(topic, false));
        String trace = awaitTaskFailure("failing");
        assertTrue(trace.contains("bad.public.short-0@4") && trace.contains("public.short")
                && trace.contains("value too long"), trace);
        connect.deleteConnector("failing");
    }

    @Test
    void killedConnectionsAreRetriedAndNothingIsSkipped() throws Exception {
        pg.execute(DB, "CREATE TABLE survivors (id int PRIMARY KEY, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "kill.public.survivors";
        Map<String, String> config = sinkConfig(topic, false);
        config.put("retry.backoff.ms", "100");
        config.put("consumer.override.max.poll.records", "50");
        ensureTopic(topic);
        connect.configureConnector("kill", config);
        Await.until(TIMEOUT, "the sink to run", () -> "RUNNING".equals(connect.connectorStatus("kill").tasks().get(0).state()));
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 400; i++) {
                int id = round * 400 + i;
                sendJson(topic, "{\"id\":" + id + ",\"updated_at\":\"2024-01-01T00:00:00Z\"}");
            }
            producer.flush();
            pg.execute("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgcdc-sink'");
        }
        pg.restart();
        awaitRows("SELECT count(*), count(DISTINCT id) FROM survivors", List.of("2000|2000"));
        assertEquals("RUNNING", connect.connectorStatus("kill").tasks().get(0).state());
        connect.deleteConnector("kill");
    }

    /**
     * The background post's OLAP example: a statement-level trigger with transition tables keeps
     * team totals. Every change arrives twice and upserts arrive shuffled; the totals stay exact,
     * and the trigger runs once per batch, not once per row.
     */
    @Test
    void teamTotalsStayExactUnderDuplicatesAndReordering() throws Exception {
        pg.execute(DB, "CREATE TABLE entries (id bigint PRIMARY KEY, team_id int NOT NULL, duration int NOT NULL, "
                        + "updated_at timestamptz NOT NULL, pgcdc_position numeric)",
                "CREATE TABLE team_totals (team_id int PRIMARY KEY, total bigint NOT NULL)",
                "CREATE TABLE trigger_runs (kind text, rows int)",
                "CREATE FUNCTION entries_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO trigger_runs SELECT 'insert', count(*) FROM new_rows; "
                        + "INSERT INTO team_totals SELECT team_id, sum(duration) FROM new_rows GROUP BY team_id "
                        + "ON CONFLICT (team_id) DO UPDATE SET total = team_totals.total + excluded.total; RETURN NULL; END $$",
                "CREATE FUNCTION entries_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO trigger_runs SELECT 'update', count(*) FROM new_rows; "
                        + "INSERT INTO team_totals SELECT team_id, sum(d) FROM ("
                        + "SELECT team_id, duration AS d FROM new_rows UNION ALL SELECT team_id, -duration FROM old_rows) x "
                        + "GROUP BY team_id ON CONFLICT (team_id) DO UPDATE SET total = team_totals.total + excluded.total; "
                        + "RETURN NULL; END $$",
                "CREATE FUNCTION entries_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO trigger_runs SELECT 'delete', count(*) FROM old_rows; "
                        + "UPDATE team_totals t SET total = t.total - o.s FROM (SELECT team_id, sum(duration) s FROM old_rows "
                        + "GROUP BY team_id) o WHERE t.team_id = o.team_id; RETURN NULL; END $$",
                "CREATE TRIGGER entries_added AFTER INSERT ON entries REFERENCING NEW TABLE AS new_rows "
                        + "FOR EACH STATEMENT EXECUTE FUNCTION entries_added()",
                "CREATE TRIGGER entries_changed AFTER UPDATE ON entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
                        + "FOR EACH STATEMENT EXECUTE FUNCTION entries_changed()",
                "CREATE TRIGGER entries_removed AFTER DELETE ON entries REFERENCING OLD TABLE AS old_rows "
                        + "FOR EACH STATEMENT EXECUTE FUNCTION entries_removed()");
        Schema row = SchemaBuilder.struct().optional()
                .field("id", Schema.INT64_SCHEMA).field("team_id", Schema.OPTIONAL_INT32_SCHEMA)
                .field("duration", Schema.OPTIONAL_INT32_SCHEMA)
                .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
                .build();
        Schema envelope = envelope(row);
        java.util.Random random = new java.util.Random(42);
        List<Struct> upserts = new ArrayList<>();
        List<Struct> deletes = new ArrayList<>();
        Map<Long, int[]> expected = new java.util.TreeMap<>(); // id -> {team, duration}
        long lsn = 1000;
        java.time.Instant clock = java.time.Instant.parse("2024-01-01T00:00:00Z");
        for (long id = 1; id <= 300; id++) {
            int team = random.nextInt(5);
            int duration = 1 + random.nextInt(1000);
            clock = clock.plusSeconds(1);
            upserts.add(change(envelope, "entries", "c", null, new Struct(row).put("id", id).put("team_id", team)
                    .put("duration", duration).put("updated_at", clock.toString()), lsn++, 0, null));
            expected.put(id, new int[] {team, duration});
        }
        for (int i = 0; i < 300; i++) {
            long id = 1 + random.nextInt(300);
            int[] entry = expected.get(id);
            entry[1] = 1 + random.nextInt(1000);
            clock = clock.plusSeconds(1);
            upserts.add(change(envelope, "entries", "u", null, new Struct(row).put("id", id).put("team_id", entry[0])
                    .put("duration", entry[1]).put("updated_at", clock.toString()), lsn++, 0, null));
        }
        for (long id = 1; id <= 300; id += 7) {
            expected.remove(id);
            deletes.add(change(envelope, "entries", "d", new Struct(row).put("id", id), null, lsn++, 0, null));
        }
        List<Struct> shuffled = new ArrayList<>(upserts);
        java.util.Collections.shuffle(shuffled, random);
        List<Struct> replay = new ArrayList<>(upserts);
        java.util.Collections.shuffle(replay, random);
        String topic = "cdc.public.entries";
        for (List<Struct> pass : List.of(shuffled, deletes, replay, deletes)) {
            for (Struct value : pass) {
                send(topic, WITH_SCHEMAS, envelope, value);
            }
        }
        producer.flush();
        int records = 2 * (upserts.size() + deletes.size());

        connect.configureConnector("entries", sinkConfig(topic, true));
        List<String> expectedTotals = new ArrayList<>();
        Map<Integer, Long> totals = new java.util.TreeMap<>();
        expected.values().forEach(e -> totals.merge(e[0], (long) e[1], Long::sum));
        totals.forEach((team, total) -> expectedTotals.add(team + "|" + total));
        List<String> expectedEntries = new ArrayList<>();
        expected.forEach((id, e) -> expectedEntries.add(id + "|" + e[0] + "|" + e[1]));
        awaitRows("SELECT id, team_id, duration FROM entries ORDER BY id", expectedEntries);
        awaitRows("SELECT team_id, total FROM team_totals WHERE total <> 0 ORDER BY team_id", expectedTotals);
        List<String> runs = rows("SELECT count(*) FROM trigger_runs");
        int statements = Integer.parseInt(runs.get(0));
        assertTrue(statements * 20 < records, statements + " trigger runs for " + records
                + " records: statement triggers must run per batch, not per row");
        connect.deleteConnector("entries");
    }

    @Test
    void sourcePositionGuardAndSoftDeletesForTablesWithoutUpdatedAt() throws Exception {
        pg.execute(DB, "CREATE TABLE positions (id bigint PRIMARY KEY, total numeric(10,2), note text, "
                + "src_pos numeric, deleted boolean NOT NULL DEFAULT false)");
        Schema row = SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA)
                .field("total", Decimal.builder(2).optional().build()).field("note", Schema.OPTIONAL_STRING_SCHEMA).build();
        Schema envelope = envelope(row);
        String topic = "cdc.public.positions";
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "positions", "c", null,
                new Struct(row).put("id", 1L).put("total", new BigDecimal("1.00")).put("note", "v1"), 10, 0, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "positions", "u", null,
                new Struct(row).put("id", 1L).put("total", new BigDecimal("2.00")).put("note", "v2"), 20, 1, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "positions", "c", null,
                new Struct(row).put("id", 2L).put("total", new BigDecimal("5.00")).put("note", "gone"), 21, 0, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "positions", "d", new Struct(row).put("id", 2L), null,
                22, 0, null));
        producer.flush();
        Map<String, String> config = sinkConfig(topic, true);
        config.put("upsert.guard.mode", "source_lsn");
        config.put("upsert.guard.column", "src_pos");
        config.put("delete.mode", "soft");
        config.put("delete.soft.column", "deleted");
        connect.configureConnector("positions", config);
        awaitRows("SELECT id, total, note, deleted FROM positions ORDER BY id", List.of("1|2.00|v2|f", "2|5.00|gone|t"));
        // A replay of the first change, arriving late, changes nothing; a newer one applies.
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "positions", "c", null,
                new Struct(row).put("id", 1L).put("total", new BigDecimal("1.00")).put("note", "v1"), 10, 0, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "positions", "u", null,
                new Struct(row).put("id", 2L).put("total", new BigDecimal("6.00")).put("note", "back"), 30, 0, null));
        producer.flush();
        awaitRows("SELECT id, total, note, deleted FROM positions ORDER BY id", List.of("1|2.00|v2|f", "2|6.00|back|f"));
        connect.deleteConnector("positions");
    }

    /**
     * now() is fixed within a transaction: two updates of a row in one transaction share updated_at, and an
     * update may leave it alone. Split across batches, the later one is a change, not a replay.
     */
    @Test
    void aLaterChangeWithTheSameGuardValueIsAChangeNotAReplay() throws Exception {
        pg.execute(DB, "CREATE TABLE ties (id bigint PRIMARY KEY, total numeric(10,2), note text, updated_at timestamptz, "
                + "pgcdc_position numeric)");
        String topic = "cdc.public.ties";
        String at = "2024-05-01T00:00:00Z";
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ties", "u", null, order(1, "1.00", "first", at),
                500, 0, null));
        producer.flush();
        connect.configureConnector("ties", sinkConfig(topic, true));
        awaitRows("SELECT id, note FROM ties", List.of("1|first"));
        // The second update of the same transaction, in the next batch.
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ties", "u", null, order(1, "2.00", "second", at),
                500, 1, null));
        producer.flush();
        awaitRows("SELECT id, note FROM ties", List.of("1|second"));
        // A replay of the first changes nothing; a later transaction that leaves updated_at alone applies.
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ties", "u", null, order(1, "1.00", "first", at),
                500, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ties", "u", null, order(1, "3.00", "third", at),
                600, 0, null));
        producer.flush();
        awaitRows("SELECT id, total, note FROM ties", List.of("1|3.00|third"));
        connect.deleteConnector("ties");
    }

    /**
     * Nothing else remembers a hard-deleted key: an older version arriving after the delete (a replay from another
     * partition, a re-snapshot, a second source) must not bring the row back, while a later one does.
     */
    @Test
    void aLateOlderVersionNeverBringsADeletedRowBack() throws Exception {
        pg.execute(DB, "CREATE TABLE ledgered (id bigint PRIMARY KEY, total numeric(10,2), note text, updated_at timestamptz, "
                + "pgcdc_position numeric)");
        String topic = "cdc.public.ledgered";
        for (long id = 1; id <= 2; id++) {
            send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ledgered", "c", null,
                    order(id, "1.00", "v1", "2024-06-01T00:00:00Z"), 900 + id, 0, null));
        }
        producer.flush();
        connect.configureConnector("ledgered", sinkConfig(topic, true));
        awaitRows("SELECT id FROM ledgered ORDER BY id", List.of("1", "2"));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ledgered", "d", order(1, null, null, null), null,
                910, 0, null));
        producer.flush();
        awaitRows("SELECT id FROM ledgered ORDER BY id", List.of("2"));

        // The older insert again, beside a key never deleted at a position before the delete's, then a marker to
        // know they were written.
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ledgered", "c", null,
                order(1, "1.00", "v1", "2024-06-01T00:00:00Z"), 901, 0, null));
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ledgered", "c", null,
                order(3, "1.00", "late", "2024-06-01T00:00:00Z"), 905, 0, null));
        producer.flush();
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ledgered", "u", null,
                order(2, "2.00", "marker", "2024-06-02T00:00:00Z"), 911, 0, null));
        producer.flush();
        awaitRows("SELECT id, note FROM ledgered ORDER BY id", List.of("2|marker", "3|late"));
        // A later insert of the key is a new row.
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "ledgered", "c", null,
                order(1, "3.00", "again", "2024-06-01T00:00:00Z"), 920, 0, null));
        producer.flush();
        awaitRows("SELECT id, note FROM ledgered ORDER BY id", List.of("1|again", "2|marker", "3|late"));
        assertEquals(List.of("public.ledgered|(1)|" + changeLsn(910, 0)),
                rows("SELECT target, key, position FROM pgcdc_deleted_keys WHERE target = 'public.ledgered'"));
        connect.deleteConnector("ledgered");
    }

    /** The ledger is bounded: a key is forgotten after delete.ledger.retention.ms, and its older versions apply again. */
    @Test
    void theLedgerForgetsADeletedKeyAfterItsRetention() throws Exception {
        pg.execute(DB, "CREATE TABLE forgotten (id bigint PRIMARY KEY, total numeric(10,2), note text, updated_at timestamptz, "
                + "pgcdc_position numeric)");
        String topic = "cdc.public.forgotten";
        send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "forgotten", "d", order(1, null, null, null), null,
                950, 0, null));
        producer.flush();
        Map<String, String> config = sinkConfig(topic, true);
        config.put("delete.ledger.table", "forgotten_keys");
        config.put("delete.ledger.retention.ms", "1");
        connect.configureConnector("forgotten", config);
        awaitRows("SELECT key FROM forgotten_keys", List.of("(1)"));
        // The next batch's transaction purges the key, and the one after that writes the older version.
        for (String note : List.of("purging", "back")) {
            send(topic, WITH_SCHEMAS, ORDER_ENVELOPE, change(ORDER_ENVELOPE, "forgotten", "c", null,
                    order(1, "1.00", note, "2024-06-01T00:00:00Z"), 940, 0, null));
            producer.flush();
            Await.until(TIMEOUT, "the key to be purged", () -> rows("SELECT key FROM forgotten_keys").isEmpty()
                    || !rows("SELECT id FROM forgotten").isEmpty());
        }
        awaitRows("SELECT id, note FROM forgotten", List.of("1|back"));
        connect.deleteConnector("forgotten");
    }

    private static final Schema LOCAL_ROW = SchemaBuilder.struct().optional().name("local.Value")
            .field("id", Schema.INT64_SCHEMA).field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .field("updated_at", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema LOCAL_ENVELOPE = envelope(LOCAL_ROW);

    /**
     * An application writing updated_at (timestamp without time zone) in Berlin time, 2 h ahead of UTC in June;
     * a row is deleted 1 s after its update. By position where the table keeps it; else by commit time,
     * against updated_at read in the zone upsert.guard.timezone names.
     */
    @Test
    void aRowDeletedSoonAfterItsUpdateInAZoneAheadOfUtcIsDeleted() throws Exception {
        long updated = java.time.Instant.parse("2025-06-01T10:00:00Z").toEpochMilli() * 1000;
        for (String table : List.of("local_positions", "local_zoned")) {
            pg.execute(DB, "CREATE TABLE " + table + " (id bigint PRIMARY KEY, note text, updated_at timestamp"
                    + (table.equals("local_positions") ? ", pgcdc_position numeric)" : ")"));
            String topic = "cdc.public." + table;
            for (long id = 1; id <= 2; id++) {
                send(topic, WITH_SCHEMAS, LOCAL_ENVELOPE, change(LOCAL_ENVELOPE, table, "c", null, new Struct(LOCAL_ROW)
                        .put("id", id).put("note", "v").put("updated_at", "2025-06-01T12:00:00"), 700 + id, 0, null, updated));
            }
            producer.flush();
            Map<String, String> config = sinkConfig(topic, true);
            if (table.equals("local_zoned")) {
                config.put("upsert.guard.timezone", "Europe/Berlin");
                config.put("upsert.position.column", "");
            } else {
                config.put("upsert.guard.timezone", "UTC"); // wrong, but the position decides
            }
            connect.configureConnector(table, config);
            awaitRows("SELECT id FROM " + table + " ORDER BY id", List.of("1", "2"));
            send(topic, WITH_SCHEMAS, LOCAL_ENVELOPE, change(LOCAL_ENVELOPE, table, "d", new Struct(LOCAL_ROW).put("id", 1L),
                    null, 800, 0, null, updated + 1_000_000));
            producer.flush();
            awaitRows("SELECT id FROM " + table, List.of("2"));
            connect.deleteConnector(table);
        }
    }

    @Test
    void aTableOfDocumentsAloneKeyedByADocumentIsUpsertedAndDeleted() throws Exception {
        pg.execute(DB, "CREATE TABLE keyed_by_doc (k jsonb PRIMARY KEY, body json)");
        Schema json = SchemaBuilder.string().name("io.debezium.data.Json").optional().build();
        Schema row = SchemaBuilder.struct().optional().field("k", json).field("body", json).build();
        Schema envelope = envelope(row);
        String topic = "cdc.public.keyed_by_doc";
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "keyed_by_doc", "c", null,
                new Struct(row).put("k", "{\"a\": 1}").put("body", "{\"x\":  [1, 2]}"), 10, 0, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "keyed_by_doc", "c", null,
                new Struct(row).put("k", "[1, \"two\"]").put("body", "null"), 11, 0, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "keyed_by_doc", "c", null,
                new Struct(row).put("k", "\"gone\"").put("body", null), 12, 0, null));
        producer.flush();
        Map<String, String> config = sinkConfig(topic, true);
        config.put("upsert.guard.mode", "none");
        connect.configureConnector("keyed-by-doc", config);
        awaitRows("SELECT k, coalesce(body::text, 'SQL NULL') FROM keyed_by_doc ORDER BY k",
                List.of("\"gone\"|SQL NULL", "[1, \"two\"]|null", "{\"a\": 1}|{\"x\":  [1, 2]}"));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "keyed_by_doc", "d",
                new Struct(row).put("k", "\"gone\""), null, 13, 0, null));
        send(topic, WITH_SCHEMAS, envelope, change(envelope, "keyed_by_doc", "u", null,
                new Struct(row).put("k", "{\"a\":1}").put("body", "2"), 14, 0, null));
        producer.flush();
        awaitRows("SELECT k, coalesce(body::text, 'SQL NULL') FROM keyed_by_doc ORDER BY k",
                List.of("[1, \"two\"]|null", "{\"a\": 1}|2"));
        connect.deleteConnector("keyed-by-doc");
    }

    @Test
    void aBatchOfLargeDocumentsIsWrittenInSeveralStatementsOfOneTransaction() throws Exception {
        pg.execute(DB, "CREATE TABLE big_docs (id int PRIMARY KEY, doc jsonb, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE TABLE big_docs_statements (tx bigint, n int)",
                "CREATE FUNCTION count_big_docs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO big_docs_statements SELECT txid_current(), count(*) FROM inserted; RETURN NULL; END $$",
                "CREATE TRIGGER big_docs_statements AFTER INSERT ON big_docs REFERENCING NEW TABLE AS inserted "
                        + "FOR EACH STATEMENT EXECUTE FUNCTION count_big_docs()");
        Schema row = SchemaBuilder.struct().optional().field("id", Schema.INT32_SCHEMA)
                .field("doc", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
                .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
                .build();
        Schema envelope = envelope(row);
        String topic = "cdc.public.big_docs";
        // 16 documents of 600,000 characters: 9.6M characters in one batch, past the 8 MiB a statement holds.
        for (int id = 1; id <= 16; id++) {
            String doc = "{\"id\": " + id + ", \"data\": \"" + String.valueOf((char) ('a' + id)).repeat(600_000) + "\"}";
            send(topic, WITH_SCHEMAS, envelope, change(envelope, "big_docs", "c", null,
                    new Struct(row).put("id", id).put("doc", doc).put("updated_at", "2024-01-01T00:00:00Z"), 100 + id, 0, null));
        }
        producer.flush();
        Map<String, String> config = sinkConfig(topic, true);
        // One fetch, so one put(), holds all 16 records.
        config.put("consumer.override.max.partition.fetch.bytes", String.valueOf(32 << 20));
        config.put("consumer.override.fetch.max.bytes", String.valueOf(32 << 20));
        connect.configureConnector("big-docs", config);
        awaitRows("SELECT count(*), sum(length(doc ->> 'data')), count(DISTINCT doc ->> 'data') FROM big_docs "
                + "WHERE (doc ->> 'id')::int = id", List.of("16|9600000|16"));
        // Statements of 13 and 3 rows, in the batch's one transaction.
        assertEquals(List.of("2|13", "2|3"), rows("SELECT count(*) OVER (PARTITION BY tx), n FROM big_docs_statements ORDER BY n DESC"));
        connect.deleteConnector("big-docs");
    }

    /** Records of one unchanged shape before and after a column is added to the target: no restart. */
    @Test
    void aColumnAddedToTheTargetIsWrittenWithoutRestart() throws Exception {
        pg.execute(DB, "CREATE TABLE growing (id int PRIMARY KEY, qty int, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "grow.public.growing";
        String row = "{\"id\":%d,\"qty\":%d,\"extra\":\"x%d\",\"updated_at\":\"2024-01-01T00:00:00Z\"}";
        sendJson(topic, String.format(row, 1, 1, 1));
        producer.flush();
        connect.configureConnector("growing", sinkConfig(topic, false));
        awaitRows("SELECT id, qty FROM growing", List.of("1|1"));

        pg.execute(DB, "ALTER TABLE growing ADD COLUMN extra text");
        for (int id = 2; id <= 3; id++) {
            sendJson(topic, String.format(row, id, id, id));
            producer.flush();
            awaitRows("SELECT count(*) FROM growing WHERE id = " + id, List.of("1"));
        }
        // Read again for a field it still lacks (within seconds, not at once): from then on the column is written.
        Await.until(TIMEOUT, "the added column to be written", () -> {
            int id = 4 + Integer.parseInt(rows("SELECT count(*) FROM growing").get(0));
            sendJson(topic, String.format(row, id, id, id));
            producer.flush();
            Thread.sleep(500);
            return !rows("SELECT id FROM growing WHERE extra IS NOT NULL").isEmpty();
        });
        connect.deleteConnector("growing");
    }

    /** A column widened on the target (int to bigint) for values its old type could not hold: they are not bad rows. */
    @Test
    void aColumnRetypedOnTheTargetIsWrittenAsItsNewTypeWithoutRestart() throws Exception {
        pg.execute(DB, "CREATE TABLE widened (id int PRIMARY KEY, qty int, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "grow.public.widened";
        String row = "{\"id\":%d,\"qty\":%d,\"updated_at\":\"2024-01-01T00:00:00Z\"}";
        sendJson(topic, String.format(row, 1, 1));
        producer.flush();
        connect.configureConnector("widened", sinkConfig(topic, false));
        awaitRows("SELECT id, qty FROM widened", List.of("1|1"));

        pg.execute(DB, "ALTER TABLE widened ALTER COLUMN qty TYPE bigint");
        sendJson(topic, String.format(row, 2, 5_000_000_000L));
        producer.flush();
        awaitRows("SELECT id, qty FROM widened ORDER BY id", List.of("1|1", "2|5000000000"));
        assertEquals("RUNNING", connect.connectorStatus("widened").tasks().get(0).state());
        connect.deleteConnector("widened");
    }

    @Test
    void fieldListsChooseColumnsAndUnknownFieldsCanBeRejected() throws Exception {
        pg.execute(DB, "CREATE TABLE chosen (id int PRIMARY KEY, keep text, secret text, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "fields.public.chosen";
        sendJson(topic, "{\"id\":1,\"keep\":\"k\",\"secret\":\"s\",\"updated_at\":\"2024-01-01T00:00:00Z\"}");
        producer.flush();
        Map<String, String> config = sinkConfig(topic, false);
        config.put("fields.exclude.list", "secret");
        connect.configureConnector("chosen", config);
        awaitRows("SELECT id, keep, secret FROM chosen", List.of("1|k|null"));
        connect.deleteConnector("chosen");

        sendJson(topic, "{\"id\":2,\"keep\":\"k\",\"surprise\":1,\"updated_at\":\"2024-01-01T00:00:00Z\"}");
        producer.flush();
        Map<String, String> strict = sinkConfig(topic, false);
        strict.put("fields.missing.mode", "fail");
        connect.configureConnector("strict", strict);
        String trace = awaitTaskFailure("strict");
        assertTrue(trace.contains("has field \"surprise\" but public.chosen has no such column"), trace);
        connect.deleteConnector("strict");
    }
}
