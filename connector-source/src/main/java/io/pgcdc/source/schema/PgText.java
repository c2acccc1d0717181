package io.pgcdc.source.schema;

import java.time.LocalDate;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Parsers for PostgreSQL's text output formats (DateStyle ISO, bytea_output hex).
 * Written by hand: the formats are fixed, and years past 9999, BC dates and
 * infinities are beyond java.time's ISO parsers.
 */
public final class PgText {

    public static final long MICROS_PER_SECOND = 1_000_000L;
    private static final long MICROS_PER_DAY = 86_400L * MICROS_PER_SECOND;
    public static final int DATE_POSITIVE_INFINITY = Integer.MAX_VALUE;
    public static final int DATE_NEGATIVE_INFINITY = Integer.MIN_VALUE;
    public static final long TIMESTAMP_POSITIVE_INFINITY = Long.MAX_VALUE;
    public static final long TIMESTAMP_NEGATIVE_INFINITY = Long.MIN_VALUE;

    private PgText() {
    }

    public static boolean parseBoolean(String text) {
        return text.charAt(0) == 't';
    }

    public static byte[] parseBytea(String text) {
        if (!text.startsWith("\\x")) {
            throw new IllegalArgumentException("bytea value not in hex format: starts with '"
                    + text.substring(0, Math.min(8, text.length())) + "'");
        }
        return HexFormat.of().parseHex(text, 2, text.length());
    }

    public static double parseDouble(String text) {
        switch (text) {
            case "NaN": return Double.NaN;
            case "Infinity": return Double.POSITIVE_INFINITY;
            case "-Infinity": return Double.NEGATIVE_INFINITY;
            default: return Double.parseDouble(text);
        }
    }

    /** Days since 1970-01-01; infinities map to {@link #DATE_POSITIVE_INFINITY} and {@link #DATE_NEGATIVE_INFINITY}. */
    public static int parseDate(String text) {
        if (text.equals("infinity")) {
            return DATE_POSITIVE_INFINITY;
        }
        if (text.equals("-infinity")) {
            return DATE_NEGATIVE_INFINITY;
        }
        boolean bc = text.endsWith(" BC");
        return (int) epochDay(text, 0, bc);
    }

    /** Microseconds since midnight. */
    public static long parseTime(String text) {
        return timeMicros(text, 0, text.length());
    }

    /** A timestamp without time zone as microseconds since 1970-01-01 00:00 on the same wall clock. */
    public static long parseTimestamp(String text) {
        if (isInfinity(text)) {
            return infinity(text);
        }
        boolean bc = text.endsWith(" BC");
        int end = bc ? text.length() - 3 : text.length();
        int space = text.indexOf(' ');
        return epochDay(text, 0, bc) * MICROS_PER_DAY + timeMicros(text, space + 1, end);
    }

    /**
     * A timestamp with time zone as microseconds since the epoch (UTC). The server prints it in
     * the session's zone with that zone's offset, which may carry minutes and seconds.
     */
    public static long parseTimestampTz(String text) {
        if (isInfinity(text)) {
            return infinity(text);
        }
        boolean bc = text.endsWith(" BC");
        int end = bc ? text.length() - 3 : text.length();
        int space = text.indexOf(' ');
        int sign = offsetStart(text, space + 1, end);
        long local = epochDay(text, 0, bc) * MICROS_PER_DAY + timeMicros(text, space + 1, sign);
        return local - offsetSeconds(text, sign, end) * MICROS_PER_SECOND;
    }

    private static boolean isInfinity(String text) {
        return text.endsWith("infinity");
    }

    private static long infinity(String text) {
        return text.charAt(0) == '-' ? TIMESTAMP_NEGATIVE_INFINITY : TIMESTAMP_POSITIVE_INFINITY;
    }

    /** ISO-8601 in UTC with microseconds, as Debezium's ZonedTimestamp: {@code 2024-01-31T10:15:30.123456Z}. */
    public static String formatTimestampTz(long epochMicros) {
        if (epochMicros == TIMESTAMP_POSITIVE_INFINITY) {
            return "infinity";
        }
        if (epochMicros == TIMESTAMP_NEGATIVE_INFINITY) {
            return "-infinity";
        }
        long seconds = Math.floorDiv(epochMicros, MICROS_PER_SECOND);
        int micros = (int) Math.floorMod(epochMicros, MICROS_PER_SECOND);
        LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400L));
        if (date.getYear() < 0 || date.getYear() > 9999) {
            return DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.ofEpochSecond(seconds, micros * 1000L));
        }
        // Written directly: ISO_INSTANT's formatter was a tenth of the replication thread on a table with
        // one timestamptz column. Same text: four-digit years, the fraction in groups of three digits.
        int secondOfDay = (int) Math.floorMod(seconds, 86_400L);
        int fraction = micros == 0 ? 0 : micros % 1000 == 0 ? 4 : 7;
        byte[] out = new byte[20 + fraction];
        digits(out, 0, date.getYear(), 4);
        out[4] = '-';
        digits(out, 5, date.getMonthValue(), 2);
        out[7] = '-';
        digits(out, 8, date.getDayOfMonth(), 2);
        out[10] = 'T';
        digits(out, 11, secondOfDay / 3600, 2);
        out[13] = ':';
        digits(out, 14, secondOfDay / 60 % 60, 2);
        out[16] = ':';
        digits(out, 17, secondOfDay % 60, 2);
        if (fraction > 0) {
            out[19] = '.';
            digits(out, 20, fraction == 4 ? micros / 1000 : micros, fraction - 1);
        }
        out[out.length - 1] = 'Z';
        return new String(out, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static void digits(byte[] out, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
    }

    /** A time with time zone, normalised to UTC, ISO-8601 ({@code 10:15:30.123456Z}). */
    public static String parseTimeTzToUtc(String text) {
        int sign = offsetStart(text, 0, text.length());
        long micros = timeMicros(text, 0, sign);
        ZoneOffset offset = ZoneOffset.ofTotalSeconds((int) offsetSeconds(text, sign, text.length()));
        OffsetTime time = OffsetTime.of(java.time.LocalTime.ofNanoOfDay((micros % MICROS_PER_DAY) * 1000L), offset);
        return time.withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_TIME);
    }

    private static long epochDay(String text, int from, boolean bc) {
        int firstDash = text.indexOf('-', from + 1);
        int year = Integer.parseInt(text, from, firstDash, 10);
        int month = Integer.parseInt(text, firstDash + 1, firstDash + 3, 10);
        int day = Integer.parseInt(text, firstDash + 4, firstDash + 6, 10);
        // 1 BC is proleptic year 0.
        return LocalDate.of(bc ? 1 - year : year, month, day).toEpochDay();
    }

    private static long timeMicros(String text, int from, int to) {
        long hours = Integer.parseInt(text, from, from + 2, 10);
        long minutes = Integer.parseInt(text, from + 3, from + 5, 10);
        long seconds = Integer.parseInt(text, from + 6, from + 8, 10);
        long micros = 0;
        if (to > from + 8 && text.charAt(from + 8) == '.') {
            int digits = to - (from + 9);
            micros = Integer.parseInt(text, from + 9, to, 10);
            for (int i = digits; i < 6; i++) {
                micros *= 10;
            }
        }
        return ((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND + micros;
    }

    private static int offsetStart(String text, int from, int to) {
        for (int i = to - 1; i > from; i--) {
            char c = text.charAt(i);
            if (c == '+' || c == '-') {
                return i;
            }
        }
        throw new IllegalArgumentException("no time zone offset in '" + text + "'");
    }

    private static long offsetSeconds(String text, int sign, int end) {
        long total = 0;
        int unit = 3600;
        for (int i = sign + 1; i < end && unit >= 1; i += 3) {
            total += Integer.parseInt(text, i, i + 2, 10) * (long) unit;
            unit /= 60;
        }
        return text.charAt(sign) == '-' ? -total : total;
    }

    /**
     * The elements of a one-dimensional array literal ({@code {a,"b c",NULL}}), unquoted and
     * unescaped, NULL as null. A multi-dimensional array is rejected: its shape cannot fit a
     * one-dimensional schema.
     */
    public static List<String> parseArray(String text) {
        int start = 0;
        if (text.charAt(0) == '[') { // explicit bounds, e.g. [0:2]={1,2,3}
            start = text.indexOf('=') + 1;
        }
        if (text.charAt(start) != '{' || text.charAt(text.length() - 1) != '}') {
            throw new IllegalArgumentException("not an array literal: " + abbreviate(text));
        }
        List<String> elements = new ArrayList<>();
        int i = start + 1;
        int end = text.length() - 1;
        if (i == end) {
            return elements;
        }
        StringBuilder current = new StringBuilder();
        while (i <= end) {
            char c = text.charAt(i);
            if (c == '{') {
                throw new IllegalArgumentException("multi-dimensional arrays are not supported: " + abbreviate(text));
            }
            if (c == '"') {
                i++;
                while (text.charAt(i) != '"') {
                    char q = text.charAt(i);
                    if (q == '\\') {
                        i++;
                        q = text.charAt(i);
                    }
                    current.append(q);
                    i++;
                }
                i++; // closing quote
                elements.add(current.toString());
                current.setLength(0);
                i++; // delimiter or closing brace
                continue;
            }
            int next = i;
            while (next < end && text.charAt(next) != ',') {
                next++;
            }
            String element = text.substring(i, next);
            elements.add(element.equals("NULL") ? null : element);
            i = next + 1;
        }
        return elements;
    }

    static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "...";
    }
}
