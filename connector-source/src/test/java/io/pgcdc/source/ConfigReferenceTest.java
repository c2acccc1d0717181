package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.ConfigReference;

/** README.md's source settings table is the ConfigDef's, not a copy that drifts. */
class ConfigReferenceTest {

    @Test
    void readmeListsEverySettingAsDefined() throws Exception {
        assertNull(ConfigReference.check(Path.of("..", "README.md"), "source", SourceConfig.CONFIG_DEF));
    }
}
