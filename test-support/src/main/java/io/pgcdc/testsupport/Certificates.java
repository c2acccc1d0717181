package io.pgcdc.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway certificate authority made with the {@code openssl} command: server certificates for
 * host names, and client certificates for users (PostgreSQL's {@code cert} authentication maps the
 * common name to the user) with the key also in the PKCS-8 DER form pgjdbc reads.
 */
public final class Certificates {

    private final Path dir;
    private final String name;

    /** A certificate and its key: PEM, and for clients also {@code .pk8} (PKCS-8 DER, unencrypted). */
    public record Issued(Path cert, Path key, Path pk8) { }

    private Certificates(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new self-signed CA named {@code name}, its files in {@code dir}. */
    public static Certificates authority(Path dir, String name) {
        Certificates ca = new Certificates(dir, name);
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                "-keyout", ca.file("ca.key").toString(), "-out", ca.cert().toString());
        return ca;
    }

    public Path cert() {
        return file("ca.crt");
    }

    /** A server certificate valid for these DNS names only. */
    public Issued server(String... dnsNames) {
        List<String> san = new ArrayList<>();
        for (String dns : dnsNames) {
            san.add("DNS:" + dns);
        }
        return issue("server", dnsNames[0], "subjectAltName=" + String.join(",", san));
    }

    /** A client certificate whose common name is {@code user}. */
    public Issued client(String user) {
        Issued issued = issue("client-" + user, user, null);
        Path pk8 = file("client-" + user + ".pk8");
        openssl("pkcs8", "-topk8", "-inform", "PEM", "-outform", "DER", "-nocrypt", "-in", issued.key().toString(),
                "-out", pk8.toString());
        return new Issued(issued.cert(), issued.key(), pk8);
    }

    private Issued issue(String base, String commonName, String extension) {
        Path key = file(base + ".key");
        Path csr = file(base + ".csr");
        Path cert = file(base + ".crt");
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + commonName, "-keyout", key.toString(),
                "-out", csr.toString());
        List<String> sign = new ArrayList<>(List.of("x509", "-req", "-days", "2", "-in", csr.toString(),
                "-CA", cert().toString(), "-CAkey", file("ca.key").toString(), "-CAcreateserial", "-out", cert.toString()));
        if (extension != null) {
            Path ext = file(base + ".ext");
            write(ext, extension + "\n");
            sign.addAll(List.of("-extfile", ext.toString()));
        }
        openssl(sign.toArray(String[]::new));
        return new Issued(cert, key, null);
    }

    private Path file(String base) {
        return dir.resolve(name + "-" + base);
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void openssl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("Command failed: " + String.join(" ", command) + "\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run openssl (is it on the PATH?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
