package io.pgcdc.sink;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

/**
 * Turns Connect values into JSON-ready values that PostgreSQL's {@code json_to_recordset}
 * casts to the target column types exactly: temporal values as ISO text (the sink's session
 * runs in UTC), decimals as exact numbers, bytes as bytea hex text, JSON documents embedded.
 * Debezium's semantic types are understood, so Debezium envelopes land as they should.
 */
final class JsonValues {

    private static final long MICROS_PER_SECOND = 1_000_000L;
    private static final long MICROS_PER_DAY = 86_400L * MICROS_PER_SECOND;

    private JsonValues() {
    }

    static Object of(Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        if (schema == null) {
            return schemaless(value);
        }
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case Decimal.LOGICAL_NAME:
                    return value;
                case "io.debezium.data.VariableScaleDecimal": {
                    Struct s = (Struct) value;
                    return new BigDecimal(new BigInteger(bytes(s.get("value"))), s.getInt32("scale"));
                }
                case "io.debezium.data.Json":
                    return new RawJson((String) value);
                case "io.debezium.time.Date":
                    return date(((Number) value).intValue());
                case Date.LOGICAL_NAME:
                    return date((int) Math.floorDiv(((java.util.Date) value).getTime(), 86_400_000L));
                case "io.debezium.time.MicroTime":
                    return time(((Number) value).longValue());
                case "io.debezium.time.NanoTime":
                    return time(((Number) value).longValue() / 1000);
                case "io.debezium.time.Time":
                    return time(((Number) value).longValue() * 1000);
                case Time.LOGICAL_NAME:
                    return time(((java.util.Date) value).getTime() * 1000);
                case "io.debezium.time.MicroDuration":
                    return new DurationMicros(((Number) value).longValue());
                case "io.debezium.time.MicroTimestamp":
                    return timestamp(((Number) value).longValue());
                case "io.debezium.time.NanoTimestamp":
                    return timestamp(Math.floorDiv(((Number) value).longValue(), 1000L));
                case "io.debezium.time.Timestamp":
                    return timestamp(((Number) value).longValue() * 1000);
                case Timestamp.LOGICAL_NAME:
                    return timestamp(((java.util.Date) value).getTime() * 1000);
                default:
                    break;
            }
        }
        switch (schema.type()) {
            case BYTES:
                return bytea(bytes(value));
            case ARRAY: {
                List<?> list = (List<?>) value;
                List<Object> out = new ArrayList<>(list.size());
                for (Object element : list) {
                    out.add(of(schema.valueSchema(), element));
                }
                return out;
            }
            case STRUCT: {
                Struct struct = (Struct) value;
                Map<String, Object> out = new LinkedHashMap<>();
                for (Field field : schema.fields()) {
                    out.put(field.name(), of(field.schema(), struct.get(field)));
                }
                return out;
            }
            case MAP: {
                Map<?, ?> map = (Map<?, ?>) value;
                Map<String, Object> out = new LinkedHashMap<>();
                map.forEach((k, v) -> out.put(String.valueOf(k), of(schema.valueSchema(), v)));
                return out;
            }
            default:
                return value;
        }
    }

    private static Object schemaless(Object value) {
        if (value instanceof byte[] || value instanceof ByteBuffer) {
            return bytea(bytes(value));
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(e -> out.add(schemaless(e)));
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), v == null ? null : schemaless(v)));
            return out;
        }
        if (value instanceof Struct struct) {
            return of(struct.schema(), struct);
        }
        return value;
    }

    private static byte[] bytes(Object value) {
        if (value instanceof ByteBuffer buffer) {
            byte[] out = new byte[buffer.remaining()];
            buffer.duplicate().get(out);
            return out;
        }
        return (byte[]) value;
    }

    static String bytea(byte[] bytes) {
        return "\\x" + HexFormat.of().formatHex(bytes);
    }

    static String date(int epochDay) {
        if (epochDay == Integer.MAX_VALUE) {
            return "infinity";
        }
        if (epochDay == Integer.MIN_VALUE) {
            return "-infinity";
        }
        LocalDate date = LocalDate.ofEpochDay(epochDay);
        return date.getYear() <= 0 ? date.withYear(1 - date.getYear()) + " BC" : date.toString();
    }

    static String time(long micros) {
        if (micros == MICROS_PER_DAY) {
            return "24:00:00";
        }
        return LocalTime.ofNanoOfDay(micros * 1000).toString();
    }

    static String timestamp(long epochMicros) {
        if (epochMicros == Long.MAX_VALUE) {
            return "infinity";
        }
        if (epochMicros == Long.MIN_VALUE) {
            return "-infinity";
        }
        Instant instant = Instant.ofEpochSecond(Math.floorDiv(epochMicros, MICROS_PER_SECOND),
                Math.floorMod(epochMicros, MICROS_PER_SECOND) * 1000L);
        LocalDateTime local = LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
        if (local.getYear() <= 0) {
            return local.withYear(1 - local.getYear()) + " BC";
        }
        return local.toString();
    }
}
