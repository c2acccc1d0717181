package io.pgcdc.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.types.Password;

/**
 * A connector's settings reference in its docs page, generated from its {@link ConfigDef}: one
 * table per group, between {@code <!-- config:NAME -->} and {@code <!-- /config:NAME -->}.
 * Tests compare it with the page and fail when it is stale; with
 * {@code -Dpgcdc.docs.update=true} they write it instead.
 */
public final class ConfigReference {

    public static final String UPDATE_PROPERTY = "pgcdc.docs.update";

    private ConfigReference() {
    }

    public static String markdown(ConfigDef def) {
        Map<String, List<ConfigKey>> groups = new LinkedHashMap<>();
        for (ConfigKey key : def.configKeys().values()) {
            groups.computeIfAbsent(key.group == null ? "Other" : key.group, g -> new ArrayList<>()).add(key);
        }
        StringBuilder out = new StringBuilder();
        groups.forEach((group, keys) -> {
            out.append("\n**").append(group).append("**\n\n");
            out.append("| setting | type | default | valid values | meaning |\n| --- | --- | --- | --- | --- |\n");
            keys.sort(java.util.Comparator.comparingInt(k -> k.orderInGroup));
            for (ConfigKey key : keys) {
                out.append("| `").append(key.name).append("` | ").append(key.type.toString().toLowerCase())
                        .append(" | ").append(defaultValue(key)).append(" | ")
                        .append(key.validator == null ? "" : cell(key.validator.toString())).append(" | ")
                        .append(cell(key.documentation)).append(" |\n");
            }
        });
        return out.toString();
    }

    private static String defaultValue(ConfigKey key) {
        if (!key.hasDefault()) {
            return "required";
        }
        Object value = key.defaultValue;
        if (value == null) {
            return "null";
        }
        String text = value instanceof List<?> list ? String.join(",", list.stream().map(String::valueOf).toList())
                : value instanceof Password password ? password.value() : String.valueOf(value);
        return text.isEmpty() ? "\"\"" : "`" + text + "`";
    }

    private static String cell(String text) {
        // '<prefix>' would be an HTML tag to a Markdown renderer.
        return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ");
    }

    /**
     * Checks (or, with the update property, rewrites) the page's section for {@code name}.
     *
     * @return null when the page is up to date or was updated; else what is wrong
     */
    public static String check(Path page, String name, ConfigDef def) throws IOException {
        String begin = "<!-- config:" + name + " -->";
        String end = "<!-- /config:" + name + " -->";
        String text = Files.readString(page, StandardCharsets.UTF_8);
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            return page + " has no section between " + begin + " and " + end;
        }
        String expected = markdown(def) + "\n";
        String actual = text.substring(from + begin.length(), to);
        if (actual.equals(expected)) {
            return null;
        }
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
            Files.writeString(page, text.substring(0, from + begin.length()) + expected + text.substring(to),
                    StandardCharsets.UTF_8);
            return null;
        }
        return "The configuration reference of " + name + " in " + page + " is stale: run "
                + "mvn -B test -D" + UPDATE_PROPERTY + "=true and commit " + page;
    }
}
