package io.pgcdc.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;

import org.junit.jupiter.api.Test;

class ReportTest {

    private static final TableName ORDERS = new TableName("shop", "orders");

    private static TableResult result(Checksum source, Checksum target) {
        return new TableResult(ORDERS, ORDERS, source, target, List.of(), null);
    }

    @Test
    void checksumsAreSixtyFourBitsWhateverTheSum() {
        assertEquals("ffffffffffffffff", Checksum.of(1, BigInteger.valueOf(-1)).hex());
        assertEquals(Checksum.of(2, BigInteger.ONE), Checksum.of(2, BigInteger.ONE.shiftLeft(64).add(BigInteger.ONE)));
    }

    @Test
    void oneEqualTable() {
        Report report = new Report(List.of(result(Checksum.of(1_234, BigInteger.TEN), Checksum.of(1_234, BigInteger.TEN))), null);
        assertTrue(report.allEqual());
        assertEquals("equal    shop.orders: 1,234 rows, checksum 000000000000000a", report.tables().get(0).line());
        assertEquals("EQUAL: the table has the same rows on the source and the target", report.summary());
    }

    @Test
    void equalChecksumsDoNotHideAMissingColumn() {
        TableResult lacking = new TableResult(ORDERS, new TableName("olap", "orders"), Checksum.of(3, BigInteger.ONE),
                Checksum.of(3, BigInteger.ONE), List.of("note", "gift"), null);
        assertEquals(TableResult.Outcome.DIFFERS, lacking.outcome());
        assertEquals("differs  shop.orders -> olap.orders: the target lacks columns \"note\", \"gift\"; rows 3 / 3, "
                + "checksum 0000000000000001 / 0000000000000001 (source / target)", lacking.line());
        Report report = new Report(List.of(lacking, result(Checksum.of(1, BigInteger.ONE), null)), null);
        assertFalse(report.allEqual());
        assertEquals("missing  shop.orders: 1 rows on the source, no such table on the target", report.tables().get(1).line());
        assertEquals("NOT EQUAL: 2 of 2 tables differ (shop.orders -> olap.orders, shop.orders)", report.summary());
    }
}
