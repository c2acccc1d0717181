package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.ConfigReference;

/** docs/source.md's settings table is the ConfigDef's, not a copy that drifts. */
class ConfigReferenceTest {

    @Test
    void theDocsListEverySettingAsDefined() throws Exception {
        assertNull(ConfigReference.check(Path.of("..", "docs", "source.md"), "source", SourceConfig.CONFIG_DEF));
    }
}
