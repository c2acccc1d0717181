package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

class SignalTest {

    private static Signal parse(String json) {
        return Signal.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsDebeziumsExecuteSnapshotSignal() {
        assertEquals(new Signal.ExecuteSnapshot(List.of("public.orders", "sales.items")),
                parse("{\"id\":\"x\",\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.orders\","
                        + "\"sales.items\"],\"type\":\"INCREMENTAL\"}}"));
        assertEquals(new Signal.ExecuteSnapshot(List.of("public.t")),
                parse("{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"]}}"));
    }

    @Test
    void watermarkRoundTrips() {
        assertEquals(new Signal.Watermark("slot:1"), parse(Signal.watermark("slot:1")));
    }

    @Test
    void badSignalsSayWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("snapshot please")).getMessage()
                .contains("not JSON"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("{\"type\":\"stop-snapshot\"}")).getMessage()
                .contains("unknown signal type 'stop-snapshot'"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"orders\"]}}")).getMessage()
                .contains("schema.table"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"a.b\"],\"type\":\"blocking\"}}"))
                .getMessage().contains("'blocking' is not supported"));
    }
}
