package io.pgcdc.quickstart;

import java.time.Duration;
import java.util.Random;

import io.pgcdc.testsupport.Await;
import io.pgcdc.testsupport.PostgresServer;

/**
 * What goes wrong in production while the pipeline runs: redeploys, rebalances, lost connections,
 * restarted servers, an import. Each kind is injected into a running {@link SoakRig} and returns
 * what exactly it did, for the run's log.
 */
enum Fault {

    TASK_RESTART {
        @Override
        String inject(SoakRig rig, Workload load, Random random) {
            String connector = random.nextBoolean() ? SoakRig.SOURCE : SoakRig.SINK;
            rig.post("/connectors/" + connector + "/tasks/0/restart");
            return connector + " task 0";
        }
    },

    CONNECTOR_RESTART {
        @Override
        String inject(SoakRig rig, Workload load, Random random) {
            String connector = random.nextBoolean() ? SoakRig.SOURCE : SoakRig.SINK;
            rig.post("/connectors/" + connector + "/restart?includeTasks=true");
            return connector + " and its task";
        }
    },

    WORKER_REPLACED {
        @Override
        String inject(SoakRig rig, Workload load, Random random) throws Exception {
            return rig.replaceWorker(random.nextBoolean());
        }
    },

    WALSENDER_TERMINATED {
        @Override
        String inject(SoakRig rig, Workload load, Random random) {
            // The task reports RUNNING before it has reconnected: terminate a walsender that exists.
            return terminated(rig.oltp, SoakRig.OLTP_DB, "SELECT count(pg_terminate_backend(active_pid)) "
                    + "FROM pg_replication_slots WHERE slot_name = '" + SoakRig.SLOT + "' AND active_pid IS NOT NULL")
                    + " walsender(s) of slot " + SoakRig.SLOT;
        }
    },

    SINK_CONNECTIONS_TERMINATED {
        @Override
        String inject(SoakRig rig, Workload load, Random random) {
            return terminated(rig.olap, SoakRig.OLAP_DB, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    + "WHERE datname = '" + SoakRig.OLAP_DB + "' AND application_name = 'pgcdc-sink'")
                    + " sink connection(s)";
        }
    },

    OLAP_RESTARTED {
        @Override
        String inject(SoakRig rig, Workload load, Random random) {
            rig.olap.restart();
            return "pg_ctl restart -m fast on port " + rig.olap.port();
        }
    },

    KAFKA_RESTARTED {
        @Override
        String inject(SoakRig rig, Workload load, Random random) {
            rig.connect.kafka().stopOnlyBrokers();
            // Same port (the test kit binds it again) and same log directories: what clients reconnect to.
            rig.connect.kafka().restartOnlyBrokers();
            return "broker at " + rig.connect.kafka().bootstrapServers();
        }
    },

    HUGE_TRANSACTION {
        @Override
        String inject(SoakRig rig, Workload load, Random random) throws Exception {
            load.largeTransaction(HUGE_TRANSACTION_ROWS).get();
            return HUGE_TRANSACTION_ROWS + " time entries in one transaction";
        }
    };

    static final int HUGE_TRANSACTION_ROWS = 50_000;

    abstract String inject(SoakRig rig, Workload load, Random random) throws Exception;

    /** Runs a terminating query until it hit something (a connection may be between reconnects); how many it hit. */
    private static String terminated(PostgresServer server, String database, String sql) {
        String[] count = new String[1];
        Await.until(Duration.ofMinutes(1), "a connection to terminate: " + sql, () -> {
            count[0] = server.queryValue(database, sql);
            return !"0".equals(count[0]);
        });
        return count[0];
    }
}
