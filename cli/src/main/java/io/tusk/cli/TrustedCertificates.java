package io.tusk.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS trust of the CLI: the JVM's trust store (the system's CAs) plus the CA certificates of a PEM
 * file ({@code TUSK_CA_FILE}, {@code --ca-file}), e.g. a deployment's private CA.
 */
final class TrustedCertificates {
  private TrustedCertificates() {}

  /**
   * An SSL context trusting the JVM's CAs and those in {@code caFile}.
   *
   * @throws IllegalArgumentException naming the file when it cannot be read or holds no certificate
   */
  static SSLContext sslContext(Path caFile) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int n = 0;
      for (X509TrustManager manager : managers(null)) {
        for (X509Certificate ca : manager.getAcceptedIssuers()) {
          store.setCertificateEntry("system-" + n++, ca);
        }
      }
      Collection<? extends Certificate> given;
      try (InputStream in = Files.newInputStream(caFile)) {
        given = CertificateFactory.getInstance("X.509").generateCertificates(in);
      }
      if (given.isEmpty()) {
        throw new IllegalArgumentException("TUSK_CA_FILE " + caFile + " holds no certificate");
      }
      for (Certificate ca : given) {
        store.setCertificateEntry("tusk-ca-" + n++, ca);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, managers(store).toArray(TrustManager[]::new), null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read TUSK_CA_FILE " + caFile, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "TUSK_CA_FILE " + caFile + " is not a PEM file of certificates: " + e.getMessage(), e);
    }
  }

  private static List<X509TrustManager> managers(KeyStore store) throws GeneralSecurityException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    List<X509TrustManager> managers = new ArrayList<>();
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        managers.add(x509);
      }
    }
    return managers;
  }
}
