package io.pgcdc.sink;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * Makes guard column values comparable across a batch, whatever shape they came in: numbers
 * as decimals, ISO timestamps (with or without zone, 'T' or space) as instants in UTC.
 */
final class GuardValue {

    private GuardValue() {
    }

    /** A comparable form of {@code value}, or null when it has none. */
    static Comparable<?> of(Object value) {
        if (value instanceof Number n) {
            return n instanceof BigDecimal d ? d : new BigDecimal(n.toString());
        }
        if (value instanceof String s) {
            String iso = s.replace(' ', 'T');
            try {
                return OffsetDateTime.parse(iso.endsWith("+00") ? iso + ":00" : iso).toInstant();
            } catch (DateTimeParseException notZoned) {
                try {
                    return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC);
                } catch (DateTimeParseException notLocal) {
                    try {
                        return LocalDate.parse(iso).atStartOfDay().toInstant(ZoneOffset.UTC);
                    } catch (DateTimeParseException notDate) {
                        return s;
                    }
                }
            }
        }
        return null;
    }

    /** Compares two guard values; 0 when either is missing or they are of different kinds. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static int compare(Comparable a, Comparable b) {
        if (a == null || b == null || a.getClass() != b.getClass()) {
            return 0;
        }
        return a.compareTo(b);
    }
}
