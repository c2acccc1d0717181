package io.pgcdc.sink;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

import io.pgcdc.testsupport.ConnectCluster;
import io.pgcdc.testsupport.PostgresServer;

/** What a sink test class runs against: a real PostgreSQL, one in-JVM Connect cluster, and a producer of raw records. */
final class SinkTestBed implements AutoCloseable {

    static final String DB = "olap";

    final PostgresServer pg;
    final EmbeddedConnectCluster connect;
    final KafkaProducer<byte[], byte[]> producer;
    private final Set<String> topics = new HashSet<>();

    private SinkTestBed(PostgresServer pg, EmbeddedConnectCluster connect, KafkaProducer<byte[], byte[]> producer) {
        this.pg = pg;
        this.connect = connect;
        this.producer = producer;
    }

    static SinkTestBed start(String name) throws Exception {
        return start(name, Map.of());
    }

    static SinkTestBed start(String name, Map<String, String> workerProps) throws Exception {
        PostgresServer pg = PostgresServer.start();
        pg.createDatabase(DB);
        EmbeddedConnectCluster connect = ConnectCluster.start(name, 1, workerProps);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, connect.kafka().bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArraySerializer",
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArraySerializer"));
        return new SinkTestBed(pg, connect, producer);
    }

    /** The embedded broker creates no topic on first use: a producer would wait a minute for it. */
    void createTopicOnce(String topic) {
        if (topics.add(topic)) {
            connect.kafka().createTopic(topic, 1);
        }
    }

    /** Each row {@code sql} returns from {@code database}, its columns' text joined by '|'. */
    List<String> rows(String database, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= columns; i++) {
                    row.append(i > 1 ? "|" : "").append(rs.getString(i));
                }
                out.add(row.toString());
            }
        }
        return out;
    }

    /** A sink of one task reading {@code topics} as schemaless JSON into the test database. */
    Map<String, String> sinkConfig(String topics) {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", PgSinkConnector.class.getName());
        config.put("tasks.max", "1");
        config.put("topics", topics);
        config.put("connection.url", pg.jdbcUrl(DB));
        config.put("connection.username", "postgres");
        config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("value.converter.schemas.enable", "false");
        return config;
    }

    /** JSON as the example workers write it: decimals as numbers. */
    static JsonConverter converter(boolean schemas) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", String.valueOf(schemas), "decimal.format", "NUMERIC"), false);
        return c;
    }

    @Override
    public void close() {
        producer.close();
        connect.stop();
        pg.close();
    }
}
