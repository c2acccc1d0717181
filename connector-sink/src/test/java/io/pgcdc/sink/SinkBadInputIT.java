package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;

/**
 * A corpus of malformed and hostile records, interleaved with good ones, through a real worker
 * into a real PostgreSQL. With {@code errors.tolerance=all} every good record lands and every bad
 * one is in the dead letter queue, with a reason naming the record and what was wrong with it;
 * with {@code errors.tolerance=none} the task fails naming the record and the problem.
 */
class SinkBadInputIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String DB = SinkTestBed.DB;
    private static final String ITEMS = "bad.public.items";
    private static final String MISSING = "bad.public.nosuch";
    private static final String HEADER = "__connect.errors.";
    private static final int BIG = 900_000; // under Kafka's 1 MB record limit, far over any column's

    private static SinkTestBed bed;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink-bad-input");
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    /**
     * A record of the corpus: good ones (no {@code stage}) land, as row {@code id} for upserts; bad ones
     * are rejected at {@code stage} with a reason mentioning {@code mentions}.
     */
    private record Entry(String kind, String topic, byte[] value, Integer id, String stage, List<String> mentions) {
        boolean good() {
            return stage == null;
        }
    }

    private static final class Corpus {
        final List<Entry> entries = new ArrayList<>();
        /** Offsets (topic-partition@offset) of the bad entries, filled when produced. */
        final Map<String, Entry> badAt = new LinkedHashMap<>();

        void good(int id, String note) {
            entries.add(new Entry("good", ITEMS, json("{\"id\":" + id + ",\"code\":\"g" + id + "\",\"qty\":" + id
                    + ",\"note\":\"" + note + "\",\"payload\":{\"n\":[" + id + ",\"x\"]},\"blob\":\"\\\\x0a\","
                    + "\"updated_at\":\"2024-01-01T00:00:00Z\"}"), id, null, List.of()));
        }

        void converterFails(String kind, byte[] value) {
            entries.add(new Entry(kind, ITEMS, value, null, "VALUE_CONVERTER", List.of()));
        }

        void taskRejects(String kind, String topic, String json, String... mentions) {
            entries.add(new Entry(kind, topic, json(json), null, "TASK_PUT", List.of(mentions)));
        }

        /** A good-looking row of id {@code id} with one field replaced by {@code field}'s raw JSON. */
        static String row(int id, String field, String rawJson) {
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("id", String.valueOf(id));
            fields.put("code", "\"b" + id + "\"");
            fields.put("qty", "1");
            fields.put("note", "\"bad\"");
            fields.put("updated_at", "\"2024-01-01T00:00:00Z\"");
            if (rawJson == null) {
                fields.remove(field);
            } else {
                fields.put(field, rawJson);
            }
            StringBuilder out = new StringBuilder("{");
            fields.forEach((k, v) -> out.append(out.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
            return out.append('}').toString();
        }

        /** A good delete of row {@code id}, whose before image holds text no column could take. */
        void goodDelete(int id) {
            entries.add(new Entry("good delete", ITEMS, json("{\"op\":\"d\",\"before\":{\"id\":" + id
                    + ",\"note\":\"a\\u0000b\"},\"source\":{\"ts_ms\":1800000000000}}"), null, null, List.of()));
        }

        List<Integer> goodIds() {
            return entries.stream().filter(e -> e.good() && e.id() != null).map(Entry::id).sorted().toList();
        }
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Good records between bad ones of every kind PostgreSQL, the record parser or the converter rejects. */
    private static Corpus corpus() {
        Corpus c = new Corpus();
        int id = 1;
        c.good(id++, "first");
        c.converterFails("invalid JSON", json("{\"id\": 1001, \"code\": "));
        c.good(id++, "after invalid JSON");
        c.converterFails("invalid UTF-8", new byte[] {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'});
        c.good(id++, "g");
        c.converterFails("nested too deep", json("{\"id\":1003,\"payload\":" + "[".repeat(5000) + "]".repeat(5000) + "}"));
        c.good(id++, "g");
        c.taskRejects("not an object", ITEMS, "[1, 2, 3]", "neither a Struct nor a JSON object");
        c.taskRejects("bare string", ITEMS, "\"hello\"", "neither a Struct nor a JSON object");
        c.good(id++, "g");
        c.taskRejects("wrong type", ITEMS, Corpus.row(1006, "qty", "\"many\""), "column \"qty\"", "integer");
        c.good(id++, "g");
        c.taskRejects("wrong key type", ITEMS, Corpus.row(1007, "id", "\"abc\""), "column \"id\"", "integer");
        c.taskRejects("wrong timestamp", ITEMS, Corpus.row(1008, "updated_at", "\"yesterday-ish\""),
                "column \"updated_at\"", "timestamp");
        c.good(id++, "g");
        c.taskRejects("null key", ITEMS, Corpus.row(0, "id", "null"), "no value for key column \"id\"");
        c.taskRejects("missing key", ITEMS, Corpus.row(0, "id", null), "no value for key column \"id\"");
        c.good(id++, "g");
        c.taskRejects("value too long", ITEMS, Corpus.row(1011, "code", "\"123456789\""), "column \"code\"",
                "value too long");
        c.good(id++, "g");
        c.taskRejects("enormous value too long", ITEMS, Corpus.row(1012, "code", "\"" + "x".repeat(BIG) + "\""),
                "column \"code\"", "value too long");
        c.taskRejects("out of range", ITEMS, Corpus.row(1013, "qty", "99999999999"), "column \"qty\"", "out of range");
        c.good(id++, "g");
        c.taskRejects("check violation", ITEMS, Corpus.row(1014, "qty", "-1"), "items_qty_check");
        c.taskRejects("unique violation", ITEMS, Corpus.row(1015, "code", "\"taken\""), "items_code_key");
        c.good(id++, "g");
        c.taskRejects("NUL in text", ITEMS, Corpus.row(1016, "note", "\"a\\u0000b\""), "column \"note\"", "NUL");
        c.good(id++, "g");
        c.taskRejects("lone surrogate", ITEMS, Corpus.row(1017, "note", "\"x\\ud800y\""), "column \"note\"", "surrogate");
        c.good(id++, "g");
        // Written as raw JSON into the jsonb column, this text would close the row and add two rows of its own.
        c.taskRejects("JSON injection", ITEMS, Corpus.row(1018, "payload", "\"1}, {\\\"id\\\": 9999, \\\"code\\\": "
                + "\\\"injected\\\", \\\"updated_at\\\": \\\"2024-01-01T00:00:00Z\\\"}, {\\\"id\\\": 9998, \\\"payload\\\": 2\""),
                "column \"payload\"", "JSON");
        c.taskRejects("not base64", ITEMS, Corpus.row(1019, "blob", "\"not base64!\""), "column \"blob\"", "base64");
        c.good(id++, "g");
        c.taskRejects("unknown op", ITEMS, "{\"op\":\"x\",\"after\":{\"id\":1020}}", "op 'x'");
        c.taskRejects("envelope without row", ITEMS, "{\"op\":\"c\",\"after\":5}", "without a usable 'after'");
        c.taskRejects("delete with bad key", ITEMS, "{\"op\":\"d\",\"before\":{\"id\":\"zz\"},\"source\":{\"ts_ms\":1}}",
                "column \"id\"", "integer");
        c.good(id++, "g");
        c.taskRejects("unknown table", MISSING, Corpus.row(1, "qty", "1"), "public.nosuch", "does not exist");
        c.goodDelete(500); // a delete writes only its key
        c.good(id++, "x".repeat(BIG)); // enormous but valid
        for (int i = 0; i < 3; i++) {
            c.good(id++, "last");
        }
        return c;
    }

    private static Map<String, String> sinkConfig(String topics) {
        return bed.sinkConfig(topics);
    }

    private static void produce(Corpus corpus) throws Exception {
        for (Entry e : corpus.entries) {
            bed.createTopicOnce(e.topic());
            long offset = bed.producer.send(new ProducerRecord<>(e.topic(), 0, null, e.value())).get().offset();
            if (!e.good()) {
                corpus.badAt.put(e.topic() + "-0@" + offset, e);
            }
        }
    }

    private static List<Integer> ids(String sql) throws Exception {
        List<Integer> out = new ArrayList<>();
        try (Connection c = bed.pg.connect(DB); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }

    @Test
    void everyGoodRecordLandsAndEveryBadOneIsDeadLetteredWithItsReason() throws Exception {
        bed.pg.execute(DB, "CREATE TABLE items (id int PRIMARY KEY, code varchar(8) CONSTRAINT items_code_key UNIQUE, "
                        + "qty int CONSTRAINT items_qty_check CHECK (qty >= 0), note text, payload jsonb, blob bytea, "
                        + "updated_at timestamptz, pgcdc_position numeric)",
                "INSERT INTO items (id, code, qty) VALUES (0, 'taken', 0)",
                "INSERT INTO items (id, code, qty, updated_at) VALUES (500, 'deleted', 0, '2024-01-01')");
        Corpus corpus = corpus();
        produce(corpus);
        Map<String, String> config = sinkConfig(ITEMS + "," + MISSING);
        config.put("errors.tolerance", "all");
        config.put("errors.deadletterqueue.topic.name", "bad-dlq");
        config.put("errors.deadletterqueue.topic.replication.factor", "1");
        config.put("errors.deadletterqueue.context.headers.enable", "true");
        bed.connect.configureConnector("bad-all", config);

        List<Integer> expected = new ArrayList<>(List.of(0));
        expected.addAll(corpus.goodIds());
        Await.until(TIMEOUT, () -> "every good record in the table: " + ConnectorStatus.describe(bed.connect, "bad-all"),
                () -> {
                    String trace = bed.connect.connectorStatus("bad-all").tasks().get(0).trace();
                    if (trace != null) {
                        throw new AssertionError("The task failed on bad input it should have dead-lettered: " + trace);
                    }
                    return ids("SELECT id FROM items ORDER BY id").equals(expected);
                });
        Map<String, Map<String, String>> dead = readDeadLetters("bad-dlq", corpus.badAt.size());
        assertEquals(new TreeSet<>(corpus.badAt.keySet()), new TreeSet<>(dead.keySet()), "the dead-lettered records");

        Map<String, Integer> byKind = new TreeMap<>();
        for (Map.Entry<String, Entry> bad : corpus.badAt.entrySet()) {
            Entry entry = bad.getValue();
            Map<String, String> headers = dead.get(bad.getKey());
            String reason = headers.get(HEADER + "exception.message");
            assertEquals(entry.stage(), headers.get(HEADER + "stage"), entry.kind() + ": " + headers);
            assertTrue(reason != null && !reason.isBlank(), entry.kind() + " has a reason: " + headers);
            if (entry.stage().equals("TASK_PUT")) {
                assertTrue(reason.contains(bad.getKey()), entry.kind() + ": the reason names the record: " + reason);
                for (String mention : entry.mentions()) {
                    assertTrue(reason.contains(mention), entry.kind() + ": the reason mentions " + mention + ": " + reason);
                }
            }
            byKind.merge(entry.stage() + " / " + entry.kind(), 1, Integer::sum);
        }
        assertEquals(List.of(), ids("SELECT id FROM items WHERE id > 1000"), "no bad or injected row landed");
        assertEquals("RUNNING", bed.connect.connectorStatus("bad-all").tasks().get(0).state());
        System.out.printf("Bad input corpus: %d good records landed, %d dead-lettered:%n",
                corpus.entries.stream().filter(Entry::good).count(), dead.size());
        byKind.forEach((kind, n) -> System.out.printf("  %-45s %d%n", kind, n));
        bed.connect.deleteConnector("bad-all");
    }

    @Test
    void withoutToleranceTheTaskFailsNamingTheRecordAndTheProblem() throws Exception {
        bed.pg.execute(DB, "CREATE TABLE strict (id int PRIMARY KEY, note text, updated_at timestamptz, pgcdc_position numeric)");
        String topic = "strict.public.strict";
        bed.createTopicOnce(topic);
        for (int i = 1; i <= 5; i++) {
            String note = i == 4 ? "x\\ud800y" : "n" + i;
            bed.producer.send(new ProducerRecord<>(topic, 0, null, json("{\"id\":" + i + ",\"note\":\"" + note
                    + "\",\"updated_at\":\"2024-01-01T00:00:00Z\"}"))).get();
        }
        bed.connect.configureConnector("strict", sinkConfig(topic));
        String trace = ConnectorStatus.awaitTaskFailure(bed.connect, "strict", TIMEOUT);
        assertTrue(trace.contains(topic + "-0@3") && trace.contains("column \"note\"") && trace.contains("surrogate"),
                trace);
        assertEquals(List.of(), ids("SELECT id FROM strict WHERE id = 4"), "the bad row did not land");
        bed.connect.deleteConnector("strict");

        String converter = "strict.public.converter";
        bed.createTopicOnce(converter);
        bed.producer.send(new ProducerRecord<>(converter, 0, null, json("{\"id\": 1,"))).get();
        bed.connect.configureConnector("strict-converter", sinkConfig(converter));
        trace = ConnectorStatus.awaitTaskFailure(bed.connect, "strict-converter", TIMEOUT);
        // Connect's converter names neither the topic nor the offset (errors.log.enable=true logs them).
        assertTrue(trace.contains("Tolerance exceeded") && trace.contains("Converting byte[] to Kafka Connect data failed")
                && trace.contains("Unexpected end-of-input"), trace);
        bed.connect.deleteConnector("strict-converter");
    }

    /**
     * A serialization failure and a deadlock say nothing about the rows: the batch is retried whole
     * and lands, nothing is dead-lettered. The table's trigger fails the first two statements (a
     * sequence counts them: it does not roll back with them).
     */
    @Test
    void serializationFailuresAndDeadlocksAreRetriedNotDeadLettered() throws Exception {
        bed.pg.execute(DB, "CREATE SEQUENCE flaky_statements",
                "CREATE TABLE flaky (id int PRIMARY KEY, updated_at timestamptz, pgcdc_position numeric)",
                "CREATE FUNCTION flaky_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "CASE nextval('flaky_statements') "
                        + "WHEN 1 THEN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; "
                        + "WHEN 2 THEN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; "
                        + "ELSE NULL; END CASE; RETURN NULL; END $$",
                "CREATE TRIGGER flaky_fail BEFORE INSERT ON flaky FOR EACH STATEMENT EXECUTE FUNCTION flaky_fail()");
        String topic = "flaky.public.flaky";
        bed.createTopicOnce(topic);
        for (int i = 1; i <= 10; i++) {
            bed.producer.send(new ProducerRecord<>(topic, 0, null,
                    json("{\"id\":" + i + ",\"updated_at\":\"2024-01-01T00:00:00Z\"}"))).get();
        }
        Map<String, String> config = sinkConfig(topic);
        config.put("retry.backoff.ms", "10");
        config.put("errors.tolerance", "all");
        config.put("errors.deadletterqueue.topic.name", "flaky-dlq");
        config.put("errors.deadletterqueue.topic.replication.factor", "1");
        bed.connect.configureConnector("flaky", config);
        Await.until(TIMEOUT, "the ten rows", () -> ids("SELECT id FROM flaky").size() == 10);
        ObjectName metrics = SinkMetrics.objectName("flaky", 0);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        assertEquals(0L, server.getAttribute(metrics, "RecordsSentToDlq"));
        assertEquals(2L, server.getAttribute(metrics, "Retries"));
        bed.connect.deleteConnector("flaky");
    }

    /** The DLQ's records by original topic-partition@offset, with their error headers as text. */
    private static Map<String, Map<String, String>> readDeadLetters(String topic, int expected) {
        Map<String, Map<String, String>> dead = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bed.connect.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer",
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                "org.apache.kafka.common.serialization.ByteArrayDeserializer"))) {
            consumer.subscribe(List.of(topic));
            Await.until(TIMEOUT, () -> expected + " records in " + topic + ", have " + dead.keySet(), () -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    Map<String, String> headers = new TreeMap<>();
                    for (Header h : r.headers()) {
                        headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
                    }
                    dead.put(headers.get(HEADER + "topic") + "-" + headers.get(HEADER + "partition") + "@"
                            + headers.get(HEADER + "offset"), headers);
                }
                return dead.size() >= expected;
            });
        }
        return dead;
    }
}
