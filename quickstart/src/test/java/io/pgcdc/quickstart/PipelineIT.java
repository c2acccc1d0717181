package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * End to end on the worked example, with both plugins loaded from their packaged form:
 * concurrent writers, one large transaction and a restart of the source connector and its
 * task in the middle; the OLAP team totals equal the OLTP totals, and so do the rows.
 */
@Tag("compat")
class PipelineIT {

    @Test
    void olapTotalsEqualOltpTotalsAcrossARestart() throws Exception {
        try (Pipeline pipeline = Pipeline.start(new Pipeline.Options(System.getProperty("pgcdc.plugin.path"),
                Path.of(System.getProperty("pgcdc.config.examples")), null, null, null))) {
            String plugins = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(pipeline.restUrl() + "/connector-plugins")).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            java.util.Map<String, String> versions = new java.util.HashMap<>();
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(plugins)
                    .forEach(p -> versions.put(p.get("class").asText(), p.get("version").asText()));
            assertEquals("0.1.0-SNAPSHOT", versions.get("io.pgcdc.source.PgSourceConnector"),
                    "the source loads from plugin.path and reports the build's version: " + plugins);
            assertEquals("0.1.0-SNAPSHOT", versions.get("io.pgcdc.sink.PgSinkConnector"), plugins);
            List<String> log = new ArrayList<>();
            ExecutorService restarter = Executors.newSingleThreadExecutor();
            Future<?> restart = restarter.submit(() -> {
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                while (pipeline.changesCaptured() < 2_000 && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                pipeline.restartSource();
                return null;
            });
            boolean consistent = Quickstart.run(pipeline, Duration.ofSeconds(25), 3, 30_000, log::add);
            restart.get();
            restarter.shutdown();
            assertTrue(consistent, String.join("\n", log));
            assertEquals(pipeline.oltp().queryValue("SELECT count(*) FROM time_entries"),
                    pipeline.olap().queryValue("SELECT count(*) FROM olap.time_entries"));
        }
    }
}
