package io.pgcdc.source;

import java.util.ArrayList;
import java.util.List;

/**
 * A row's key column values (text, never null) as one offset string: each value prefixed by
 * its length, so any character may appear in a value. {@code ["a", "b:c"]} is {@code 1:a3:b:c}.
 */
final class KeyText {

    private KeyText() {
    }

    static String encode(List<String> values) {
        StringBuilder out = new StringBuilder();
        for (String value : values) {
            out.append(value.length()).append(':').append(value);
        }
        return out.toString();
    }

    static List<String> decode(String encoded) {
        List<String> values = new ArrayList<>();
        int at = 0;
        while (at < encoded.length()) {
            int colon = encoded.indexOf(':', at);
            if (colon < 0) {
                throw new IllegalArgumentException("Not an encoded key: " + encoded);
            }
            int length = Integer.parseInt(encoded, at, colon, 10);
            values.add(encoded.substring(colon + 1, colon + 1 + length));
            at = colon + 1 + length;
        }
        return values;
    }
}
