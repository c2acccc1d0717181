package io.pgcdc.source.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.Map;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.junit.jupiter.api.Test;

import io.pgcdc.source.SourceConfig.DecimalHandling;

class ColumnConverterTest {

    private static final PgType NUMERIC = new PgType(1700, "pg_catalog", "numeric", 'b', 'N', 0, 0, -1);
    private static final PgType INT4 = new PgType(23, "pg_catalog", "int4", 'b', 'N', 0, 0, -1);
    private static final Map<Integer, PgType> TYPES = Map.of(1700, NUMERIC, 23, INT4,
            1231, new PgType(1231, "pg_catalog", "_numeric", 'b', 'A', 1700, 0, -1),
            20000, new PgType(20000, "public", "positive", 'd', 'N', 0, 23, -1),
            20001, new PgType(20001, "public", "point3", 'c', 'C', 0, 0, -1));
    private static final int NUMERIC_10_2 = (10 << 16 | 2) + 4;

    private static ColumnConverter converter(int oid, int typmod, DecimalHandling mode) {
        return ColumnConverter.forType(TYPES.get(oid), typmod, TYPES::get, mode);
    }

    @Test
    void numericWithScaleIsAConnectDecimal() {
        ColumnConverter c = converter(1700, NUMERIC_10_2, DecimalHandling.PRECISE);
        assertEquals(Decimal.LOGICAL_NAME, c.schema().name());
        assertEquals(new BigDecimal("12.30"), c.convert("12.3"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.convert("NaN"));
        assertTrue(e.getMessage().contains("decimal.handling.mode"), e.getMessage());
    }

    @Test
    void numericWithoutScaleKeepsItsExactText() {
        ColumnConverter c = converter(1700, -1, DecimalHandling.PRECISE);
        assertEquals(Schema.Type.STRING, c.schema().type());
        assertEquals("1.000000000000000000001", c.convert("1.000000000000000000001"));
    }

    @Test
    void numericModes() {
        assertEquals(12.5, converter(1700, NUMERIC_10_2, DecimalHandling.DOUBLE).convert("12.50"));
        assertEquals("12.50", converter(1700, NUMERIC_10_2, DecimalHandling.STRING).convert("12.50"));
    }

    @Test
    void arraysAndDomainsResolveToTheirElementAndBaseTypes() {
        ColumnConverter array = converter(1231, NUMERIC_10_2, DecimalHandling.PRECISE);
        assertEquals(java.util.Arrays.asList(new BigDecimal("1.50"), null), array.convert("{1.5,NULL}"));
        ColumnConverter domain = converter(20000, -1, DecimalHandling.PRECISE);
        assertEquals(Schema.Type.INT32, domain.schema().type());
        assertEquals(7, domain.convert("7"));
    }

    @Test
    void typesWithoutMappingTravelAsText() {
        assertEquals("(1,2,3)", converter(20001, -1, DecimalHandling.PRECISE).convert("(1,2,3)"));
    }

    @Test
    void negativeScaleIsDecoded() {
        int numeric5Minus2 = (5 << 16 | (-2 & 0x7ff)) + 4;
        ColumnConverter c = converter(1700, numeric5Minus2, DecimalHandling.PRECISE);
        assertEquals("-2", c.schema().parameters().get(Decimal.SCALE_FIELD));
        assertEquals(new BigDecimal("12300").setScale(-2), c.convert("12300"));
    }
}
