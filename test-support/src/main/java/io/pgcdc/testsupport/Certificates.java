package io.pgcdc.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority, made in the JVM (Bouncy Castle builds the certificates): server
 * certificates for host names, and client certificates for users (PostgreSQL's {@code cert}
 * authentication maps the common name to the user) with the key also in the PKCS-8 DER form pgjdbc reads.
 */
public final class Certificates {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final String name;
    private final KeyPair keys;
    private final X509Certificate certificate;

    /** A certificate and its key (PEM), the key also as {@code .pk8} (PKCS-8 DER, unencrypted) for pgjdbc. */
    public record Issued(Path cert, Path key, Path pk8) { }

    private Certificates(Path dir, String name, KeyPair keys, X509Certificate certificate) {
        this.dir = dir;
        this.name = name;
        this.keys = keys;
        this.certificate = certificate;
    }

    /** A new self-signed CA named {@code name}, its certificate in {@code dir}. */
    public static Certificates authority(Path dir, String name) {
        KeyPair keys = keyPair();
        X500Name subject = new X500Name("CN=" + name);
        X509v3CertificateBuilder builder = builder(subject, subject, keys);
        X509Certificate cert = sign(builder, keys.getPrivate(), b -> {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        });
        Certificates ca = new Certificates(dir, name, keys, cert);
        writePem(ca.cert(), "CERTIFICATE", encoded(cert));
        return ca;
    }

    public Path cert() {
        return file("ca.crt");
    }

    /** A server certificate valid for these DNS names only. */
    public Issued server(String... dnsNames) {
        GeneralName[] names = new GeneralName[dnsNames.length];
        for (int i = 0; i < dnsNames.length; i++) {
            names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
        }
        return issue("server", dnsNames[0],
                b -> b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names)));
    }

    /** A client certificate whose common name is {@code user}. */
    public Issued client(String user) {
        return issue("client-" + user, user, b -> { });
    }

    private Issued issue(String base, String commonName, Extensions extensions) {
        KeyPair pair = keyPair();
        X509v3CertificateBuilder builder = builder(new X500Name("CN=" + name), new X500Name("CN=" + commonName), pair);
        X509Certificate cert = sign(builder, keys.getPrivate(), extensions);
        Issued issued = new Issued(file(base + ".crt"), file(base + ".key"), file(base + ".pk8"));
        writePem(issued.cert(), "CERTIFICATE", encoded(cert));
        writePem(issued.key(), "PRIVATE KEY", pair.getPrivate().getEncoded());
        write(issued.pk8(), pair.getPrivate().getEncoded());
        ownerOnly(issued.key());
        ownerOnly(issued.pk8());
        return issued;
    }

    /** Adds extensions to a certificate being built. */
    private interface Extensions {
        void add(X509v3CertificateBuilder builder) throws CertIOException;
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048, RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair subjectKeys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), subject, subjectKeys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey, Extensions extensions) {
        try {
            extensions.add(builder);
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey)));
        } catch (CertIOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encoded(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path file(String base) {
        return dir.resolve(name + "-" + base);
    }

    private static void writePem(Path file, String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        write(file, ("-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n").getBytes());
    }

    /** pgjdbc and PostgreSQL refuse a private key that others may read. */
    private static void ownerOnly(Path file) {
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
