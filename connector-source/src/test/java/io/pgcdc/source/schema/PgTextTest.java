package io.pgcdc.source.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class PgTextTest {

    @Test
    void datesIncludingBcAndInfinity() {
        assertEquals(LocalDate.of(2024, 2, 29).toEpochDay(), PgText.parseDate("2024-02-29"));
        assertEquals(LocalDate.of(-43, 3, 15).toEpochDay(), PgText.parseDate("0044-03-15 BC"));
        assertEquals(LocalDate.of(12345, 1, 1).toEpochDay(), PgText.parseDate("12345-01-01"));
        assertEquals(PgText.DATE_POSITIVE_INFINITY, PgText.parseDate("infinity"));
        assertEquals(PgText.DATE_NEGATIVE_INFINITY, PgText.parseDate("-infinity"));
    }

    @Test
    void timesKeepMicroseconds() {
        assertEquals(((3 * 60 + 4) * 60 + 5) * 1_000_000L + 120_000, PgText.parseTime("03:04:05.12"));
        assertEquals(24L * 3600 * 1_000_000L, PgText.parseTime("24:00:00"));
    }

    @Test
    void timestampsKeepMicroseconds() {
        long expected = LocalDateTime.of(2024, 1, 2, 3, 4, 5).toEpochSecond(ZoneOffset.UTC) * 1_000_000L + 123_456;
        assertEquals(expected, PgText.parseTimestamp("2024-01-02 03:04:05.123456"));
        assertEquals(expected - 123_456, PgText.parseTimestamp("2024-01-02 03:04:05"));
        assertEquals(LocalDateTime.of(1, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC) * 1_000_000L,
                PgText.parseTimestamp("0001-01-01 00:00:00"));
        assertEquals(PgText.TIMESTAMP_POSITIVE_INFINITY, PgText.parseTimestamp("infinity"));
    }

    @Test
    void timestampsWithZoneNormaliseToUtc() {
        assertEquals("2024-01-02T03:04:05.123456Z", PgText.formatTimestampTz(PgText.parseTimestampTz("2024-01-02 03:04:05.123456+00")));
        assertEquals("2024-01-01T22:04:05Z", PgText.formatTimestampTz(PgText.parseTimestampTz("2024-01-02 03:34:05+05:30")));
        assertEquals("1900-01-01T00:20:21Z", PgText.formatTimestampTz(PgText.parseTimestampTz("1900-01-01 00:00:00-00:20:21")));
        assertEquals("infinity", PgText.formatTimestampTz(PgText.parseTimestampTz("infinity")));
        assertEquals("10:15:30.5Z", PgText.parseTimeTzToUtc("12:15:30.5+02"));
    }

    @Test
    void timestampsWithZoneAreWrittenAsIsoInstantWritesThem() {
        java.util.Random random = new java.util.Random(7);
        long min = PgText.parseTimestampTz("4713-01-01 00:00:00+00 BC");
        long max = PgText.parseTimestampTz("200000-12-31 23:59:59.999999+00");
        for (int i = 0; i < 100_000; i++) {
            long micros = switch (i % 4) {
                case 0 -> random.nextLong(min, max);
                case 1 -> random.nextLong(min, max) / 1000 * 1000;
                case 2 -> random.nextLong(min, max) / 1_000_000 * 1_000_000;
                default -> random.nextLong(-10_000_000_000_000L, 10_000_000_000_000L); // 1653-2286
            };
            assertEquals(java.time.format.DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.ofEpochSecond(
                    Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)),
                    PgText.formatTimestampTz(micros), "at " + micros);
        }
        assertEquals("-0001-12-31T23:59:59.001Z", PgText.formatTimestampTz(PgText.parseTimestampTz("0001-01-01 00:00:00.001+00:00:01 BC")));
        assertEquals("0000-01-01T00:00:00.500Z", PgText.formatTimestampTz(PgText.parseTimestampTz("0001-01-01 00:00:00.5+00 BC")));
        assertEquals("9999-12-31T23:59:59.000001Z", PgText.formatTimestampTz(PgText.parseTimestampTz("9999-12-31 23:59:59.000001+00")));
        assertEquals("+10000-01-01T00:00:00Z", PgText.formatTimestampTz(PgText.parseTimestampTz("10000-01-01 00:00:00+00")));
        assertEquals("-0001-12-31T00:00:00Z", PgText.formatTimestampTz(PgText.parseTimestampTz("0002-12-31 00:00:00+00 BC")));
    }

    @Test
    void byteaHex() {
        assertArrayEquals(new byte[] {0, (byte) 0xff, 0x10}, PgText.parseBytea("\\x00ff10"));
        assertThrows(IllegalArgumentException.class, () -> PgText.parseBytea("\\000"));
    }

    @Test
    void floats() {
        assertTrue(Double.isNaN(PgText.parseDouble("NaN")));
        assertEquals(Double.NEGATIVE_INFINITY, PgText.parseDouble("-Infinity"));
        assertEquals(1.5e-7, PgText.parseDouble("1.5e-07"));
    }

    @Test
    void arraysWithQuotesEscapesAndNulls() {
        assertEquals(List.of("1", "2"), PgText.parseArray("{1,2}"));
        assertEquals(Arrays.asList("a b", null, "c\"d", "NULL", "x,y", ""), PgText.parseArray("{\"a b\",NULL,\"c\\\"d\",\"NULL\",\"x,y\",\"\"}"));
        assertEquals(List.of(), PgText.parseArray("{}"));
        assertEquals(List.of("5", "6"), PgText.parseArray("[0:1]={5,6}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PgText.parseArray("{{1,2},{3,4}}"));
        assertTrue(e.getMessage().contains("multi-dimensional"));
    }
}
