package io.pgcdc.benchmarks;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The four connectors' settings. Each contender reads its own slot of one publication, or its own
 * consumer group of one topic; batch settings are each sink's best.
 */
final class Contenders {

    /**
     * Records per poll for every sink, as config-examples suggest: pgcdc writes each poll as one batch, and
     * polls of 10,000 of these 2-3 KB records cost the worker twice the CPU per record that 500-5,000 do.
     */
    static final int SINK_POLL = 2_500;
    /** Rows per batch for Debezium's JDBC sink, which buffers records across polls, and per direct statement. */
    static final int SINK_BATCH = 10_000;

    private Contenders() {
    }

    static Map<String, String> pgcdcSource(Database oltp, String slot, String publication, String table, String prefix) {
        Map<String, String> c = database(oltp);
        c.put("connector.class", "io.pgcdc.source.PgSourceConnector");
        c.put("slot.name", slot);
        c.put("publication.name", publication);
        c.put("publication.autocreate.mode", "disabled");
        c.put("snapshot.mode", "never");
        c.put("table.include.list", "public\\." + table);
        c.put("topic.prefix", prefix);
        return c;
    }

    static Map<String, String> debeziumSource(Database oltp, String slot, String publication, String table, String prefix) {
        Map<String, String> c = database(oltp);
        c.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        c.put("plugin.name", "pgoutput");
        c.put("slot.name", slot);
        c.put("publication.name", publication);
        c.put("publication.autocreate.mode", "disabled");
        c.put("snapshot.mode", "no_data");
        c.put("table.include.list", "public\\." + table);
        c.put("topic.prefix", prefix);
        return c;
    }

    /** A source writing through pgcdc's SchemaCachingJsonConverter: JsonConverter's bytes, its schemas cached. */
    static Map<String, String> withSchemaCachingConverter(Map<String, String> source) {
        Map<String, String> c = new HashMap<>(source);
        for (String role : List.of("key", "value")) {
            c.put(role + ".converter", "io.pgcdc.source.SchemaCachingJsonConverter");
            c.put(role + ".converter.schemas.enable", "true");
        }
        return c;
    }

    private static Map<String, String> database(Database oltp) {
        Map<String, String> c = new HashMap<>();
        c.put("tasks.max", "1");
        c.put("database.hostname", oltp.server().host());
        c.put("database.port", String.valueOf(oltp.server().port()));
        c.put("database.user", "postgres");
        c.put("database.password", "");
        c.put("database.dbname", oltp.name());
        return c;
    }

    /**
     * @param jsonBytes whether the sink reads JsonConverter's bytes itself (ByteArrayConverter, the
     *                  setting config-examples suggest) rather than Structs the worker's JsonConverter made
     */
    static Map<String, String> pgcdcSink(Database olap, String topic, String target, boolean jsonBytes) {
        Map<String, String> c = sink(topic);
        c.put("connector.class", "io.pgcdc.sink.PgSinkConnector");
        c.put("connection.url", olap.jdbcUrl());
        c.put("connection.username", "postgres");
        c.put("connection.password", "");
        c.put("table.name.format", "public." + target);
        c.put("upsert.guard.mode", "column");
        c.put("upsert.guard.column", "updated_at");
        if (jsonBytes) {
            c.put("key.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
            c.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
        }
        return c;
    }

    static Map<String, String> debeziumSink(Database olap, String topic, String target) {
        Map<String, String> c = sink(topic);
        c.put("connector.class", "io.debezium.connector.jdbc.JdbcSinkConnector");
        c.put("connection.url", olap.jdbcUrl());
        c.put("connection.username", "postgres");
        c.put("connection.password", "");
        c.put("collection.name.format", target);
        c.put("insert.mode", "upsert");
        c.put("primary.key.mode", "record_key");
        c.put("schema.evolution", "none");
        c.put("delete.enabled", "false");
        c.put("batch.size", String.valueOf(SINK_BATCH));
        // Keeps the newest change per key in a batch, as our sink does.
        c.put("use.reduction.buffer", "true");
        return c;
    }

    private static Map<String, String> sink(String topic) {
        Map<String, String> c = new HashMap<>();
        c.put("tasks.max", "1");
        c.put("topics", topic);
        c.put("consumer.override.max.poll.records", String.valueOf(SINK_POLL));
        c.put("consumer.override.fetch.max.bytes", String.valueOf(64 * 1024 * 1024));
        c.put("consumer.override.max.partition.fetch.bytes", String.valueOf(64 * 1024 * 1024));
        return c;
    }
}
