package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL versions the build can test (its postgres-NN profiles) are the ones the plugins'
 * manifests, README, the versions page, docker-compose.yml and CI name: a version added to or dropped from the build
 * fails this test until every place that names it says so.
 */
class TestedVersionsTest {

    private static final Path ROOT = Path.of("..");

    private static String read(String file) throws IOException {
        return Files.readString(ROOT.resolve(file));
    }

    private static TreeSet<Integer> buildVersions() throws IOException {
        TreeSet<Integer> versions = new TreeSet<>();
        Matcher m = Pattern.compile("<id>postgres-(\\d+)</id>").matcher(read("pom.xml"));
        while (m.find()) {
            versions.add(Integer.parseInt(m.group(1)));
        }
        return versions;
    }

    private static int defaultVersion() throws IOException {
        Matcher m = Pattern.compile("<postgres.version>(\\d+)</postgres.version>").matcher(read("pom.xml"));
        assertTrue(m.find(), "pom.xml sets postgres.version");
        return Integer.parseInt(m.group(1));
    }

    @Test
    void theManifestsNameTheVersionsTheBuildTests() throws IOException {
        TreeSet<Integer> versions = buildVersions();
        assertEquals(7, versions.size(), "12 to 18: " + versions);
        String range = "PostgreSQL " + versions.first() + " to " + versions.last();
        for (String manifest : List.of("connector-source/src/main/plugin/manifest.json",
                "connector-sink/src/main/plugin/manifest.json")) {
            assertTrue(read(manifest).contains(range), manifest + " names " + range);
        }
    }

    @Test
    void theDocsHaveAColumnForEachVersionAndAskOnlyForJavaAndMaven() throws IOException {
        TreeSet<Integer> versions = buildVersions();
        StringBuilder header = new StringBuilder("| feature |");
        versions.forEach(v -> header.append(' ').append(v).append(" |"));
        assertTrue(read("docs/postgresql-versions.md").contains(header), "the version table starts " + header);
        String readme = read("README.md");
        assertTrue(readme.contains("PostgreSQL " + versions.first() + " to " + versions.last()), "README's tested versions");
        assertTrue(readme.contains("Java 17+ and Maven 3.8+"), "README's requirements");
        assertTrue(readme.contains("PostgreSQL " + defaultVersion() + " by default"), "README names the default version");
    }

    @Test
    void dockerComposeRunsTheDefaultVersionAndCiTheOldest() throws IOException {
        Matcher images = Pattern.compile("image: postgres:(\\d+)").matcher(read("docker-compose.yml"));
        int found = 0;
        while (images.find()) {
            assertEquals(defaultVersion(), Integer.parseInt(images.group(1)), "docker-compose.yml's PostgreSQL");
            found++;
        }
        assertEquals(2, found, "OLTP and OLAP services");
        String ci = read(".ci/run");
        assertTrue(ci.contains("-Dpostgres.version=" + buildVersions().first() + " -Dgroups=compat"),
                ".ci/run runs the compatibility suite on the oldest version");
        assertFalse(ci.contains("apt-get install -y -q postgresql"), "CI installs no PostgreSQL");
    }
}
