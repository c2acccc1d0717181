package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.Certificates;
import io.pgcdc.testsupport.ConnectorStatus;
import io.pgcdc.testsupport.PostgresServer;

/**
 * Both connectors over TLS to a PostgreSQL that accepts their user only over TLS with a client
 * certificate: the server's certificate verified (sslmode=verify-full) against the test's CA, the
 * user authenticated by its certificate. A wrong CA, a host name the certificate does not name, and
 * a missing client certificate are refused with the reason, on the connection setting.
 */
class TlsIT {

    private static final String USER = "tls_user";
    private static final String OLTP = "app";
    private static final String OLAP = "olap";
    @org.junit.jupiter.api.io.TempDir
    static Path dir;
    private static Certificates ca;
    private static Certificates otherCa;
    private static Certificates.Issued client;
    private static PostgresServer pg;
    private static EmbeddedConnectCluster connect;

    @BeforeAll
    static void start() throws Exception {
        ca = Certificates.authority(dir, "ca");
        otherCa = Certificates.authority(dir, "other");
        Certificates.Issued server = ca.server("localhost");
        client = ca.client(USER);
        pg = PostgresServer.start(Map.of(), new PostgresServer.Tls(server.cert(), server.key(), ca.cert()), List.of(
                "hostssl all " + USER + " 127.0.0.1/32 cert",
                "hostssl replication " + USER + " 127.0.0.1/32 cert",
                "host all " + USER + " 127.0.0.1/32 reject",
                "host replication " + USER + " 127.0.0.1/32 reject"));
        pg.createDatabase(OLAP);
        pg.createDatabase(OLTP);
        String table = "CREATE TABLE items (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now())";
        pg.execute(OLTP, "CREATE ROLE " + USER + " LOGIN REPLICATION", table, "GRANT SELECT ON items TO " + USER,
                "CREATE PUBLICATION tls FOR TABLE items");
        // The sink's user may not create tables: its table of deleted keys is made for it, as config-examples do.
        pg.execute(OLAP, table, "ALTER TABLE items ADD COLUMN pgcdc_position numeric",
                "CREATE TABLE pgcdc_deleted_keys (target text NOT NULL, key text NOT NULL, position numeric NOT NULL, "
                        + "deleted_at timestamptz NOT NULL, PRIMARY KEY (target, key))",
                "CREATE INDEX ON pgcdc_deleted_keys (target, position)",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON items, pgcdc_deleted_keys TO " + USER);
        connect = PluginWorker.start("tls", Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (connect != null) {
            connect.stop();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private static Map<String, String> source(String host, Path rootCert) {
        Map<String, String> config = PluginWorker.source("tls", host, pg.port(), OLTP, USER, "public\\.items");
        config.put("database.sslmode", "verify-full");
        config.put("database.sslrootcert", rootCert.toString());
        config.put("database.sslcert", client.cert().toString());
        config.put("database.sslkey", client.pk8().toString());
        return config;
    }

    private static Map<String, String> sink(String host, Path rootCert) {
        String url = "jdbc:postgresql://" + host + ":" + pg.port() + "/" + OLAP + "?sslmode=verify-full&sslrootcert="
                + rootCert + "&sslcert=" + client.cert() + "&sslkey=" + client.pk8();
        return PluginWorker.sink("tls-sink", url, USER, "tls.public.items");
    }

    @Test
    void bothConnectorsRunOverVerifiedTlsWithClientCertificates() throws Exception {
        Map<String, String> source = source("localhost", ca.cert());
        Map<String, String> sink = sink("localhost", ca.cert());
        assertEquals(Map.of(), PluginWorker.validationErrors(connect, source));
        assertEquals(Map.of(), PluginWorker.validationErrors(connect, sink));
        connect.kafka().createTopic("tls.public.items", 1);
        connect.configureConnector("tls", source);
        connect.configureConnector("tls-sink", sink);
        ConnectorStatus.awaitRunning(connect, "tls", PluginWorker.TIMEOUT);
        ConnectorStatus.awaitRunning(connect, "tls-sink", PluginWorker.TIMEOUT);

        pg.execute(OLTP, "INSERT INTO items (id, v) VALUES (1, 'over tls')");
        Await.until(PluginWorker.TIMEOUT, "the row streamed through both connectors",
                () -> "over tls".equals(pg.queryValue(OLAP, "SELECT v FROM items WHERE id = 1")));
        // Every session of the user is encrypted (pg_hba allows no other), replication included.
        String sessions = pg.queryValue("postgres", "SELECT string_agg(DISTINCT a.application_name || ':' || a.backend_type "
                + "|| ':' || s.ssl || ':' || coalesce(s.client_dn, ''), ', ' ORDER BY a.application_name || ':' "
                + "|| a.backend_type || ':' || s.ssl || ':' || coalesce(s.client_dn, '')) FROM pg_stat_activity a "
                + "JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.usename = '" + USER + "'");
        assertTrue(sessions.contains("pgcdc-source:walsender:true:/CN=" + USER), sessions);
        assertTrue(sessions.contains("pgcdc-sink:client backend:true:/CN=" + USER), sessions);
        assertTrue(!sessions.contains(":false:"), sessions);
        connect.deleteConnector("tls-sink");
        connect.deleteConnector("tls");
    }

    @Test
    void aServerCertificateFromAnotherAuthorityIsRefused() {
        String source = PluginWorker.validationErrors(connect, source("localhost", otherCa.cert()))
                .get("database.hostname").get(0);
        assertTrue(source.startsWith("Cannot connect to PostgreSQL at localhost:" + pg.port()), source);
        assertTrue(source.contains("SSL error") && source.contains("certification path"), source);
        String sink = PluginWorker.validationErrors(connect, sink("localhost", otherCa.cert())).get("connection.url").get(0);
        assertTrue(sink.startsWith("Cannot connect to PostgreSQL at localhost:" + pg.port()), sink);
        assertTrue(sink.contains("SSL error") && sink.contains("certification path"), sink);
    }

    @Test
    void aHostNameTheCertificateDoesNotNameIsRefused() {
        String source = PluginWorker.validationErrors(connect, source("127.0.0.1", ca.cert())).get("database.hostname").get(0);
        assertTrue(source.contains("The hostname 127.0.0.1 could not be verified"), source);
        String sink = PluginWorker.validationErrors(connect, sink("127.0.0.1", ca.cert())).get("connection.url").get(0);
        assertTrue(sink.contains("The hostname 127.0.0.1 could not be verified"), sink);
    }

    @Test
    void withoutAClientCertificateTheUserIsRefused() {
        Map<String, String> source = new HashMap<>(source("localhost", ca.cert()));
        source.remove("database.sslcert");
        source.remove("database.sslkey");
        String error = PluginWorker.validationErrors(connect, source).get("database.hostname").get(0);
        assertTrue(error.contains("connection requires a valid client certificate"), error);
    }
}
