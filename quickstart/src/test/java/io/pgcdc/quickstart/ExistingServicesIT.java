package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanAttributeInfo;
import javax.management.ObjectName;

import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.ForkedConnectWorker;
import io.pgcdc.testsupport.PostgresServer;
import io.pgcdc.testsupport.RemoteJmx;

/**
 * The quickstart pointed at services it did not start (--oltp, --olap, --connect): existing
 * databases and a Connect worker in its own JVM, run the way operators run one, with JMX on and
 * the Prometheus JMX exporter agent using config-examples/jmx-exporter-rules.yml. The run uses
 * them, leaves them running and removes only the connectors it registered; every numeric
 * attribute of both connectors' MBeans is scraped, with the value JMX gives.
 */
class ExistingServicesIT {

    private static final Pattern SAMPLE = Pattern.compile("^(pgcdc_\\w+?)(?:_total)?\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);

    @Test
    void runsAgainstExistingServicesAndExportsEveryMetric() throws Exception {
        Path examples = Path.of(System.getProperty("pgcdc.config.examples"));
        Properties broker = new Properties();
        broker.putAll(Map.of("transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1"));
        EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster(1, broker);
        kafka.start();
        int jmxPort = RemoteJmx.freePort();
        int prometheusPort = RemoteJmx.freePort();
        Map<String, String> workerProps = new HashMap<>(Pipeline.workerProps(examples, System.getProperty("pgcdc.plugin.path")));
        workerProps.remove("bootstrap.servers");
        workerProps.remove("listeners");
        List<String> jvm = new ArrayList<>(RemoteJmx.jvmOptions(jmxPort));
        jvm.add("-javaagent:" + System.getProperty("pgcdc.jmx.exporter.agent") + "=127.0.0.1:" + prometheusPort + ":"
                + examples.resolve("jmx-exporter-rules.yml").toAbsolutePath());
        try (PostgresServer oltpServer = PostgresServer.start(); PostgresServer olapServer = PostgresServer.start();
             ForkedConnectWorker worker = ForkedConnectWorker.start(kafka.bootstrapServers(), "512m",
                     Path.of("target", "existing-worker"), workerProps, jvm)) {
            oltpServer.createDatabase("crm");
            olapServer.createDatabase("reports");
            Pipeline.Options options = new Pipeline.Options(null, examples, oltpServer.jdbcUrl("crm") + "?user=postgres&password=",
                    olapServer.jdbcUrl("reports") + "?user=postgres", worker.restUrl());
            List<String> log = new ArrayList<>();
            try (Pipeline pipeline = Pipeline.start(options); RemoteJmx jmx = RemoteJmx.connect(jmxPort)) {
                assertTrue(Quickstart.run(pipeline, Duration.ofSeconds(10), 2, 0, log::add), String.join("\n", log));
                String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + prometheusPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                Map<String, Double> exported = new HashMap<>();
                Matcher m = SAMPLE.matcher(scrape);
                while (m.find()) {
                    exported.put(m.group(1) + "{" + m.group(2) + "}", Double.parseDouble(m.group(3)));
                }
                for (String role : List.of("source", "sink")) {
                    ObjectName bean = new ObjectName("io.pgcdc:type=" + role + "-task-metrics,connector=pgcdc-" + role + ",task=0");
                    for (MBeanAttributeInfo attribute : jmx.connection().getMBeanInfo(bean).getAttributes()) {
                        if (attribute.getType().equals(String.class.getName())) {
                            continue; // text (the last error) is not a Prometheus sample
                        }
                        String name = "pgcdc_" + role + "_" + snakeCase(attribute.getName())
                                + "{connector=\"pgcdc-" + role + "\",task=\"0\"}";
                        assertTrue(exported.containsKey(name), name + " missing from the scrape:\n" + scrape);
                    }
                }
                assertEquals(jmx.number("io.pgcdc:type=sink-task-metrics,connector=pgcdc-sink,task=0", "RowsInserted"),
                        exported.get("pgcdc_sink_rows_inserted{connector=\"pgcdc-sink\",task=\"0\"}").longValue(),
                        "counters carry the MBean's value");
                assertTrue(exported.get("pgcdc_source_changes_emitted{connector=\"pgcdc-source\",task=\"0\"}") > 0);
                assertTrue(scrape.contains("kafka_connect_"), "Connect's own metrics are exported too");
            }
            assertEquals("[]", worker.get("/connectors").body(), "the run's connectors are removed");
            assertTrue(worker.isAlive(), "the existing worker keeps running");
            assertTrue(Long.parseLong(olapServer.queryValue("reports", "SELECT count(*) FROM olap.time_entries")) > 0,
                    "the existing OLAP database was fed");
            assertEquals("1", oltpServer.queryValue("crm", "SELECT count(*) FROM pg_replication_slots"),
                    "the slot stays for the next run");
        } finally {
            kafka.stop();
        }
    }

    private static String snakeCase(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase();
    }
}
