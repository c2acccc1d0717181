package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.pgcdc.sink.SinkConfig.GuardMode;

class SinkValidationTest {

    private static TargetTable.Column column(String sqlType, String typeName) {
        return new TargetTable.Column("v", sqlType, typeName);
    }

    @Test
    void columnModeNeedsATypeThatOrdersVersions() {
        for (String type : List.of("int2", "int4", "int8", "numeric", "float4", "float8", "date", "timestamp", "timestamptz")) {
            assertNull(SinkValidation.guardTypeProblem(GuardMode.COLUMN, column(type, type)), type);
        }
        String problem = SinkValidation.guardTypeProblem(GuardMode.COLUMN, column("text", "text"));
        assertTrue(problem.contains("guard column \"v\" of type text, which cannot tell which version"), problem);
        assertTrue(SinkValidation.guardTypeProblem(GuardMode.COLUMN, column("jsonb", "jsonb")).contains("type jsonb"));
        assertTrue(SinkValidation.guardTypeProblem(GuardMode.COLUMN, column("boolean", "bool")).contains("type boolean"));
    }

    @Test
    void sourcePositionsNeedABigintOrANumericWideEnoughForOne() {
        assertNull(SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("bigint", "int8")));
        assertNull(SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("numeric", "numeric")));
        assertNull(SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("numeric(19,0)", "numeric")));
        assertNull(SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("numeric(21,2)", "numeric")));
        String narrow = SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("numeric(18,0)", "numeric"));
        assertTrue(narrow.contains("cannot hold source positions"), narrow);
        assertTrue(SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("numeric(20,2)", "numeric"))
                .contains("cannot hold"));
        assertTrue(SinkValidation.guardTypeProblem(GuardMode.SOURCE_LSN, column("integer", "int4")).contains("make it bigint"));
    }

    @Test
    void onlyListedTopicsAreKnownInAdvance() {
        assertEquals(List.of("a", "b.c"), PgSinkConnector.topics(Map.of("topics", " a, ,b.c ")));
        assertEquals(List.of(), PgSinkConnector.topics(Map.of("topics.regex", "app\\..*")));
    }
}
