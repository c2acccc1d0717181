package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** Every relative link in README.md and docs/ leads to a file that exists, and to a heading it has. */
class DocsLinksTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s]*)(#[^)\\s]*)?\\)");
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6} (.*)$");

    /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
    static String anchor(String heading) {
        return heading.strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}_\\- ]", "").replace(' ', '-');
    }

    private static Set<String> anchors(Path file) throws IOException {
        Set<String> anchors = new HashSet<>();
        Matcher m = HEADING.matcher(Files.readString(file));
        while (m.find()) {
            anchors.add(anchor(m.group(1)));
        }
        return anchors;
    }

    @Test
    void everyLinkLeadsSomewhere() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> broken = new ArrayList<>();
        for (Path page : pages) {
            Matcher m = LINK.matcher(Files.readString(page));
            while (m.find()) {
                String path = m.group(1);
                if (path.startsWith("http://") || path.startsWith("https://") || path.startsWith("mailto:")) {
                    continue;
                }
                Path target = path.isEmpty() ? page : page.getParent().resolve(path).normalize();
                String where = ROOT.relativize(page) + ": " + m.group();
                if (!Files.exists(target)) {
                    broken.add(where + " (no such file)");
                } else if (m.group(2) != null && target.toString().endsWith(".md")
                        && !anchors(target).contains(m.group(2).substring(1))) {
                    broken.add(where + " (no such heading)");
                }
            }
        }
        assertEquals(List.of(), broken);
    }

    @Test
    void anchorsAreGitHubs() {
        assertEquals("failover-slots-postgresql-17", anchor("Failover slots (PostgreSQL 17+)"));
        assertEquals("operations-rest", anchor("Operations (REST)"));
    }
}
