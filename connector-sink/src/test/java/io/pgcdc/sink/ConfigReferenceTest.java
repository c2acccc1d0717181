package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.pgcdc.testsupport.ConfigReference;

/** README.md's sink settings table is the ConfigDef's, not a copy that drifts. */
class ConfigReferenceTest {

    @Test
    void readmeListsEverySettingAsDefined() throws Exception {
        assertNull(ConfigReference.check(Path.of("..", "README.md"), "sink", SinkConfig.CONFIG_DEF));
    }
}
