package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

/** Which replication errors mean the slot is gone, and what the task's failure then says. */
class SlotLostTest {

    private static SourceConfig config(String snapshotMode) {
        Map<String, String> props = new HashMap<>(Map.of("database.hostname", "oltp", "database.user", "u",
                "database.dbname", "app", "slot.name", "orders", "topic.prefix", "p", "snapshot.mode", snapshotMode));
        return new SourceConfig(props);
    }

    @Test
    void aDroppedSlotNamesTheSlotAndBothWaysOut() {
        SQLException dropped = new SQLException("ERROR: replication slot \"orders\" does not exist", "42704");
        ConnectException e = ReplicationSetup.slotLost(config("initial"), new RuntimeException("wrapped", dropped));
        assertTrue(e.getMessage().startsWith("Replication slot \"orders\" in oltp:5432/app was dropped while the "
                + "connector was reading it") && e.getMessage().contains("Set snapshot.mode=when_needed")
                && e.getMessage().contains("DELETE /connectors/<name>/offsets"), e.getMessage());
    }

    @Test
    void anInvalidatedSlotWithWhenNeededAsksForARestart() {
        SQLException invalidated = new SQLException("ERROR: cannot read from logical replication slot \"orders\"\n"
                + "  Detail: This slot has been invalidated because it exceeded the maximum reserved size.", "55000");
        ConnectException e = ReplicationSetup.slotLost(config("when_needed"), invalidated);
        assertTrue(e.getMessage().contains("was invalidated while the connector was reading it")
                && e.getMessage().contains("Restart the task") && !e.getMessage().contains("\n"), e.getMessage());
        assertSame(invalidated, e.getCause());
    }

    @Test
    void otherErrorsAreNotASlotLost() {
        assertNull(ReplicationSetup.slotLost(config("initial"),
                new SQLException("ERROR: replication slot \"orders\" is active for PID 42", "55006")));
        assertNull(ReplicationSetup.slotLost(config("initial"), new SQLException("ERROR: relation \"t\" does not exist",
                "42P01")));
        assertNull(ReplicationSetup.slotLost(config("initial"), new IllegalStateException("decoder bug")));
    }
}
