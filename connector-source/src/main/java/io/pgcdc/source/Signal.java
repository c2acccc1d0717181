package io.pgcdc.source;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A logical decoding message with the connector's prefix: an operator's request to snapshot tables
 * (Debezium's execute-snapshot signal shape), or a watermark the connector wrote after reading a chunk.
 */
sealed interface Signal {

    /** Read these tables again while streaming. */
    record ExecuteSnapshot(List<String> tables) implements Signal { }

    /** The chunk read with this id may be emitted here: every change its rows could reflect is before it. */
    record Watermark(String id) implements Signal { }

    ObjectMapper JSON = new ObjectMapper();

    static Signal parse(byte[] content) {
        String text = new String(content, StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON (" + e.getOriginalMessage() + "): " + text);
        }
        String type = root == null ? "" : root.path("type").asText("");
        switch (type) {
            case "watermark":
                return new Watermark(root.path("id").asText());
            case "execute-snapshot": {
                JsonNode data = root.path("data");
                String kind = data.path("type").asText("incremental");
                if (!kind.equalsIgnoreCase("incremental")) {
                    throw new IllegalArgumentException("snapshot type '" + kind + "' is not supported (only incremental): "
                            + text);
                }
                JsonNode collections = data.path("data-collections");
                List<String> tables = new ArrayList<>();
                collections.forEach(table -> tables.add(table.asText()));
                if (tables.isEmpty() || tables.stream().anyMatch(t -> t.indexOf('.') <= 0)) {
                    throw new IllegalArgumentException("data.data-collections must list tables as \"schema.table\": " + text);
                }
                return new ExecuteSnapshot(tables);
            }
            default:
                throw new IllegalArgumentException("unknown signal type '" + type + "' (expected execute-snapshot): " + text);
        }
    }

    static String watermark(String id) {
        return JSON.createObjectNode().put("type", "watermark").put("id", id).toString();
    }
}
