package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.PostgresServer;

/**
 * The quickstart pointed at services it did not start (--oltp, --olap, --connect): it uses
 * them, leaves them running, and removes only the connectors it registered.
 */
class ExistingServicesIT {

    @Test
    void runsAgainstExistingDatabasesAndConnect() throws Exception {
        Path examples = Path.of(System.getProperty("pgcdc.config.examples"));
        try (PostgresServer oltpServer = PostgresServer.start(); PostgresServer olapServer = PostgresServer.start()) {
            oltpServer.createDatabase("crm");
            olapServer.createDatabase("reports");
            EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder().name("existing").numWorkers(1)
                    .workerProps(Pipeline.workerProps(examples, System.getProperty("pgcdc.plugin.path")))
                    .brokerProps(Pipeline.brokerProps()).build();
            connect.start();
            try {
                String rest = connect.endpointForResource("");
                List<String> log = new ArrayList<>();
                Pipeline.Options options = new Pipeline.Options(null, examples,
                        oltpServer.jdbcUrl("crm") + "?user=postgres&password=", olapServer.jdbcUrl("reports") + "?user=postgres",
                        rest);
                try (Pipeline pipeline = Pipeline.start(options)) {
                    assertTrue(Quickstart.run(pipeline, Duration.ofSeconds(10), 2, 0, log::add), String.join("\n", log));
                }
                assertEquals("[]", connect.connectors().toString(), "the run's connectors are removed");
                assertTrue(Long.parseLong(olapServer.queryValue("reports", "SELECT count(*) FROM olap.time_entries")) > 0,
                        "the existing OLAP database was fed and is still up");
                assertEquals("1", oltpServer.queryValue("crm", "SELECT count(*) FROM pg_replication_slots"),
                        "the slot stays for the next run");
            } finally {
                connect.stop();
            }
        }
    }
}
