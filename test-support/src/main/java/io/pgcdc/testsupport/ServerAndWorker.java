package io.pgcdc.testsupport;

import java.util.List;
import java.util.function.Supplier;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What most integration test classes start before their first test and stop after their last: a throwaway
 * PostgreSQL with some databases, and a Connect cluster. Registered as a static {@code @RegisterExtension}
 * field, it is started before the class's own {@code @BeforeAll} methods run.
 */
public final class ServerAndWorker implements BeforeAllCallback, AfterAllCallback {

    private final Supplier<EmbeddedConnectCluster> worker;
    private final List<String> databases;
    private PostgresServer pg;
    private EmbeddedConnectCluster connect;

    /** @param worker starts the Connect cluster (in-JVM, or with the packaged plugins) */
    public ServerAndWorker(Supplier<EmbeddedConnectCluster> worker, String... databases) {
        this.worker = worker;
        this.databases = List.of(databases);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        pg = PostgresServer.start();
        for (String database : databases) {
            pg.createDatabase(database);
        }
        connect = worker.get();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (connect != null) {
            connect.stop();
        }
        if (pg != null) {
            pg.close();
        }
    }

    public PostgresServer pg() {
        return pg;
    }

    public EmbeddedConnectCluster connect() {
        return connect;
    }
}
