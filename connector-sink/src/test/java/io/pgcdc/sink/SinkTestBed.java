package io.pgcdc.sink;

import java.util.HashSet;
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
