package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.ConnectorStatus;

/**
 * The sink behind Debezium's own PostgreSQL connector (REPLICA IDENTITY DEFAULT, pgoutput), on both of
 * the sink's paths: records as Structs (JsonConverter with schemas) and as JsonConverter's bytes
 * (ByteArrayConverter). Every target row must equal its source row once the stream is applied.
 */
class DebeziumSourceIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String OLTP = "oltp";
    /** One target database per path: the Struct path and the JSON-bytes path. */
    private static final List<String> TARGETS = List.of("olap_structs", "olap_bytes");

    private static SinkTestBed bed;

    @BeforeAll
    static void start() throws Exception {
        bed = SinkTestBed.start("sink-behind-debezium");
        bed.pg.createDatabase(OLTP);
        String orders = "CREATE TABLE orders (id bigint PRIMARY KEY, qty int NOT NULL, "
                + "updated_at timestamptz NOT NULL DEFAULT now())";
        String docs = "CREATE TABLE docs (id bigint PRIMARY KEY, qty int NOT NULL, note text, doc jsonb, blob bytea, "
                + "updated_at timestamptz NOT NULL DEFAULT now())";
        bed.pg.execute(OLTP, orders, docs);
        for (String target : TARGETS) {
            bed.pg.createDatabase(target);
            bed.pg.execute(target, orders, docs, "ALTER TABLE orders ADD COLUMN pgcdc_position numeric",
                    "ALTER TABLE docs ADD COLUMN pgcdc_position numeric");
        }
        // The embedded broker creates no topic on first use.
        bed.createTopicOnce("dbz.public.orders");
        bed.createTopicOnce("dbz.public.docs");
        bed.connect.configureConnector("debezium", debezium());
        ConnectorStatus.awaitRunning(bed.connect, "debezium", TIMEOUT);
        Await.until(TIMEOUT, "Debezium's slot to be active", () -> "t".equals(bed.pg.queryValue(OLTP,
                "SELECT active FROM pg_replication_slots WHERE slot_name = 'dbz'")));
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    private static Map<String, String> debezium() {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        config.put("tasks.max", "1");
        config.put("plugin.name", "pgoutput");
        config.put("database.hostname", bed.pg.host());
        config.put("database.port", String.valueOf(bed.pg.port()));
        config.put("database.user", "postgres");
        config.put("database.password", "");
        config.put("database.dbname", OLTP);
        config.put("topic.prefix", "dbz");
        config.put("table.include.list", "public.orders,public.docs");
        config.put("slot.name", "dbz");
        config.put("publication.autocreate.mode", "filtered");
        config.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("key.converter.schemas.enable", "true");
        config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("value.converter.schemas.enable", "true");
        return config;
    }

    /** Starts one sink per path for {@code table}, each writing to its own target database. */
    private static List<String> sinks(String table) {
        List<String> names = new ArrayList<>();
        for (String target : TARGETS) {
            Map<String, String> config = new HashMap<>();
            config.put("connector.class", PgSinkConnector.class.getName());
            config.put("tasks.max", "1");
            config.put("topics", "dbz.public." + table);
            config.put("connection.url", bed.pg.jdbcUrl(target));
            config.put("connection.username", "postgres");
            if (target.endsWith("bytes")) {
                config.put("key.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
                config.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
            } else {
                config.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
                config.put("key.converter.schemas.enable", "true");
                config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
                config.put("value.converter.schemas.enable", "true");
            }
            String name = table + "-" + target;
            bed.connect.configureConnector(name, config);
            names.add(name);
        }
        return names;
    }

    private static List<String> rows(String database, String sql) throws Exception {
        return bed.rows(database, sql);
    }

    /** Waits until every target holds exactly the source's rows, as {@code sql} reads them. */
    private static void awaitTargetsEqualSource(String sql, List<String> sinks) throws Exception {
        List<String> source = rows(OLTP, sql);
        for (String target : TARGETS) {
            Await.until(TIMEOUT, () -> target + " to equal the source (" + source.size() + " rows); "
                    + differences(source, target, sql) + "; sinks " + sinks.stream()
                    .map(s -> ConnectorStatus.describe(bed.connect, s)).toList(),
                    () -> rows(target, sql).equals(source));
        }
    }

    private static String differences(List<String> source, String target, String sql) {
        try {
            List<String> rows = rows(target, sql);
            List<String> extra = new ArrayList<>(rows);
            extra.removeAll(source);
            List<String> missing = new ArrayList<>(source);
            missing.removeAll(rows);
            return rows.size() + " rows, " + extra.size() + " not in the source (first: "
                    + extra.stream().limit(3).toList() + "), " + missing.size() + " missing (first: "
                    + missing.stream().limit(3).toList() + ")";
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static void pause(List<String> sinks) {
        sinks.forEach(bed.connect::pauseConnector);
        for (String sink : sinks) {
            Await.until(TIMEOUT, sink + " to pause", () -> "PAUSED".equals(bed.connect.connectorStatus(sink).tasks().get(0).state()));
        }
    }

    private static void resume(List<String> sinks) {
        sinks.forEach(bed.connect::resumeConnector);
    }

    /**
     * Debezium fills a delete's {@code before} with the key and the other columns' defaults (updated_at of
     * 1970) under the default replica identity: a delete must be ordered after its row's update by source
     * position, not by that value, whether both fall into one batch or not.
     */
    @Test
    void rowsUpdatedThenDeletedAreGoneWhetherInOneTransactionOrTwo() throws Exception {
        String rows = "SELECT id, qty, updated_at FROM orders ORDER BY id";
        bed.pg.execute(OLTP, "INSERT INTO orders (id, qty) SELECT i, i FROM generate_series(1, 300) i");
        List<String> sinks = sinks("orders");
        awaitTargetsEqualSource(rows, sinks);

        // Paused, so that each row's update and delete reach the sinks in one batch.
        pause(sinks);
        for (int id = 1; id <= 100; id++) {
            bed.pg.execute(OLTP, "BEGIN; UPDATE orders SET qty = qty + 1000, updated_at = now() WHERE id = " + id
                    + "; DELETE FROM orders WHERE id = " + id + "; COMMIT");
        }
        for (int id = 101; id <= 200; id++) {
            bed.pg.execute(OLTP, "UPDATE orders SET qty = qty + 1000, updated_at = now() WHERE id = " + id);
            bed.pg.execute(OLTP, "DELETE FROM orders WHERE id = " + id);
        }
        bed.pg.execute(OLTP, "UPDATE orders SET qty = qty + 1000, updated_at = now() WHERE id > 250");
        resume(sinks);
        awaitTargetsEqualSource(rows, sinks);
        assertEquals("100", bed.pg.queryValue(TARGETS.get(0), "SELECT count(*) FROM orders"));

        // And across batches: the update applied first, the delete later.
        bed.pg.execute(OLTP, "UPDATE orders SET qty = qty + 1, updated_at = now() WHERE id > 200");
        awaitTargetsEqualSource(rows, sinks);
        bed.pg.execute(OLTP, "DELETE FROM orders WHERE id > 250");
        awaitTargetsEqualSource(rows, sinks);
        sinks.forEach(bed.connect::deleteConnector);
    }

    /**
     * An update that leaves TOASTed values alone comes from Debezium with its placeholder in their place
     * ({@code __debezium_unavailable_value}, as text, as a JSON document and as bytes): the stored values stay,
     * also when the update changed the row's key.
     */
    @Test
    void unchangedToastValuesBehindDebeziumKeepTheStoredValues() throws Exception {
        String rows = "SELECT id, qty, md5(note), md5(doc::text), md5(blob), updated_at FROM docs ORDER BY id";
        // Values of ~12 KB that do not compress: stored out of line, so an update that leaves them alone does not send them.
        String big = "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400))";
        bed.pg.execute(OLTP, "INSERT INTO docs (id, qty, note, doc, blob) SELECT i, i, " + big + ", "
                + "jsonb_build_object('text', " + big + "), convert_to(" + big + ", 'UTF8') FROM generate_series(1, 20) i");
        List<String> sinks = sinks("docs");
        awaitTargetsEqualSource(rows, sinks);

        bed.pg.execute(OLTP, "UPDATE docs SET qty = qty + 1000, updated_at = now() WHERE id <= 10");
        bed.pg.execute(OLTP, "UPDATE docs SET qty = qty + 1000, note = 'short', updated_at = now() WHERE id = 20");
        awaitTargetsEqualSource(rows, sinks);
        // A key change that leaves them alone: Debezium's delete and create name each other's key in headers, and the
        // sink moves the stored row to its new key.
        bed.pg.execute(OLTP, "UPDATE docs SET id = id + 100, updated_at = now() WHERE id <= 5");
        awaitTargetsEqualSource(rows, sinks);
        sinks.forEach(bed.connect::deleteConnector);
    }
}
