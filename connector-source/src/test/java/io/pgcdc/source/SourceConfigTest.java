package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class SourceConfigTest {

    private static SourceConfig withHost(String host) {
        return new SourceConfig(Map.of("database.hostname", host, "database.port", "5433", "database.user", "u",
                "database.dbname", "app db", "topic.prefix", "t"));
    }

    @Test
    void aHostIsANameOrAnAddress() {
        assertEquals("jdbc:postgresql://db-1.internal.example.com:5433/app+db", withHost("db-1.internal.example.com").jdbcUrl());
        assertEquals("jdbc:postgresql://10.0.0.7:5433/app+db", withHost("10.0.0.7").jdbcUrl());
        assertEquals("jdbc:postgresql://[::1]:5433/app+db", withHost("::1").jdbcUrl());
        assertEquals("jdbc:postgresql://[fd00::7]:5433/app+db", withHost("[fd00::7]").jdbcUrl());
        assertEquals("jdbc:postgresql://pg_primary:5433/app+db", withHost("pg_primary").jdbcUrl());
    }

    /** The host is placed into the JDBC URL: URL syntax in it would choose the database or set driver properties. */
    @Test
    void urlSyntaxInTheHostIsRefused() {
        for (String host : new String[] {"db/other?sslmode=disable", "db?sslmode=disable&socketFactory=x", "db:5432",
                "a,b", "user@db", "db/", "-db", "[::1", "db..example"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> withHost(host), host);
            assertTrue(e.getMessage().contains("database.hostname") && e.getMessage().contains("not a host name or IP address"),
                    e.getMessage());
        }
    }
}
