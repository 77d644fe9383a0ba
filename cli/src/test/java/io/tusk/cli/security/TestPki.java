package io.tusk.cli.security;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for one test: a CA key and certificate made at test time, and
 * PKCS12 key stores of certificates it signs (for the broker and for mTLS clients, the CN being the
 * Kafka principal), plus a trust store holding the CA. Everything lives under the test's directory
 * and expires in a day; one random password protects every store and key.
 */
final class TestPki {
  private static final Duration VALIDITY = Duration.ofDays(1);
  private static final String SIGNATURE = "SHA256withECDSA";

  private final Path dir;
  private final String password;
  private final KeyPair caKeys;
  private final X509Certificate caCertificate;
  private final AtomicLong serials = new AtomicLong(1);

  private TestPki(Path dir, String password, KeyPair caKeys, X509Certificate caCertificate) {
    this.dir = dir;
    this.password = password;
    this.caKeys = caKeys;
    this.caCertificate = caCertificate;
  }

  /** Makes a CA and writes its trust store ({@link #trustStore}) under {@code dir}. */
  static TestPki create(Path dir) {
    byte[] secret = new byte[12];
    new SecureRandom().nextBytes(secret);
    KeyPair caKeys = newKeyPair();
    X500Name caName = new X500Name("CN=tusk-test-ca");
    X509Certificate caCertificate =
        sign(
            new JcaX509v3CertificateBuilder(
                caName,
                BigInteger.ONE,
                Date.from(Instant.now().minus(Duration.ofMinutes(5))),
                Date.from(Instant.now().plus(VALIDITY)),
                caName,
                caKeys.getPublic()),
            caKeys.getPrivate(),
            true);
    TestPki pki = new TestPki(dir, HexFormat.of().formatHex(secret), caKeys, caCertificate);
    pki.writeTrustStore();
    return pki;
  }

  /** The password of every store and key. */
  String password() {
    return password;
  }

  /** The PKCS12 trust store holding the CA certificate. */
  Path trustStore() {
    return dir.resolve("truststore.p12");
  }

  /**
   * A PKCS12 key store with a new key and its certificate {@code CN=<commonName>}, signed by the
   * CA, usable by a TLS server on 127.0.0.1 (a subject alternative name) and as a client
   * certificate.
   */
  Path keyStore(String commonName) {
    KeyPair keys = newKeyPair();
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            caCertificate,
            BigInteger.valueOf(serials.incrementAndGet()),
            Date.from(Instant.now().minus(Duration.ofMinutes(5))),
            Date.from(Instant.now().plus(VALIDITY)),
            new X500Name("CN=" + commonName),
            keys.getPublic());
    try {
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.dNSName, "localhost")
              }));
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    } catch (CertIOException e) {
      throw new IllegalStateException("cannot add certificate extensions", e);
    }
    X509Certificate certificate = sign(builder, caKeys.getPrivate(), false);
    Path path = dir.resolve(commonName + ".p12");
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          commonName,
          keys.getPrivate(),
          password.toCharArray(),
          new Certificate[] {certificate, caCertificate});
      write(store, path);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot write the key store of " + commonName, e);
    }
    return path;
  }

  private void writeTrustStore() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("tusk-test-ca", caCertificate);
      write(store, trustStore());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot write the trust store", e);
    }
  }

  private void write(KeyStore store, Path path) throws GeneralSecurityException, IOException {
    try (OutputStream out = Files.newOutputStream(path)) {
      store.store(out, password.toCharArray());
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no EC key pair generator", e);
    }
  }

  private static X509Certificate sign(
      X509v3CertificateBuilder builder, PrivateKey signer, boolean authority) {
    try {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(authority));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(
              authority
                  ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                  : KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
    } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a test certificate", e);
    }
  }
}
