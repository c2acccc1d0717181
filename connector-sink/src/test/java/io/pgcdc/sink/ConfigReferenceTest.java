package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.ConfigReference;

/** docs/sink.md's settings table is the ConfigDef's, not a copy that drifts. */
class ConfigReferenceTest {

    @Test
    void theDocsListEverySettingAsDefined() throws Exception {
        assertNull(ConfigReference.check(Path.of("..", "docs", "sink.md"), "sink", SinkConfig.CONFIG_DEF));
    }
}
