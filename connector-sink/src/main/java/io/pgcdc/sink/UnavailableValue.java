package io.pgcdc.sink;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Debezium's stand-in for a value PostgreSQL did not send, an unchanged TOAST value: the text
 * {@code __debezium_unavailable_value} in place of text and JSON documents, its bytes in place of
 * bytea, a list of it in place of an array. Like {@code unchanged_toast} in this project's records,
 * it means "unknown, keep what is stored", never a value to write.
 */
final class UnavailableValue {

    /** Debezium's default {@code unavailable.value.placeholder}. */
    static final String TEXT = "__debezium_unavailable_value";
    /** The bytes form as {@link JsonValues} writes bytea. */
    private static final String BYTEA = JsonValues.bytea(TEXT.getBytes(StandardCharsets.UTF_8));

    private UnavailableValue() {
    }

    /** Whether a source block is Debezium's PostgreSQL connector's, whose rows may hold the placeholder. */
    static boolean fromDebezium(Map<String, Object> source) {
        return source != null && "postgresql".equals(source.get("connector"));
    }

    /** Whether any of a row's values is the placeholder: looked at for every Debezium row, so a plain loop. */
    static boolean anyIn(Map<String, Object> row) {
        for (Object value : row.values()) {
            if (is(value)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a value (as {@link JsonValues} made it) is the placeholder. */
    static boolean is(Object value) {
        if (value instanceof String s) {
            return s.equals(TEXT) || s.equals(BYTEA);
        }
        if (value instanceof RawJson json) {
            return json.text().equals(TEXT);
        }
        if (value instanceof List<?> list) {
            return !list.isEmpty() && list.stream().allMatch(UnavailableValue::is);
        }
        return false;
    }
}
