package io.tusk.testfixtures;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed server certificate for 127.0.0.1 and localhost, for tests of HTTPS listeners: made
 * with the JDK's {@code keytool}, written as PEM files (the certificate, which is also its own CA,
 * and its PKCS#8 private key), as an operator gives them ({@code TUSK_HTTP_TLS_CERT}, {@code
 * TUSK_HTTP_TLS_KEY}, {@code TUSK_CA_FILE}).
 *
 * @param cert the certificate (PEM)
 * @param key its private key (PEM, PKCS#8)
 */
public record TestCertificates(Path cert, Path key) {
  private static final String PASSWORD = "changeit";

  /**
   * Makes a new certificate under {@code dir}.
   *
   * @throws IllegalStateException if keytool fails
   */
  public static TestCertificates create(Path dir) {
    try {
      Files.createDirectories(dir);
      Path store = dir.resolve("server.p12");
      Files.deleteIfExists(store);
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process process =
          new ProcessBuilder(
                  List.of(
                      keytool.toString(),
                      "-genkeypair",
                      "-alias",
                      "tusk",
                      "-keyalg",
                      "RSA",
                      "-keysize",
                      "2048",
                      "-validity",
                      "2",
                      "-dname",
                      "CN=localhost",
                      "-ext",
                      "SAN=ip:127.0.0.1,dns:localhost",
                      "-storetype",
                      "PKCS12",
                      "-keystore",
                      store.toString(),
                      "-storepass",
                      PASSWORD,
                      "-keypass",
                      PASSWORD))
              .redirectErrorStream(true)
              .start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("keytool failed: " + output);
      }
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        keys.load(in, PASSWORD.toCharArray());
      }
      Certificate cert = keys.getCertificate("tusk");
      Key key = keys.getKey("tusk", PASSWORD.toCharArray());
      Path certFile = dir.resolve("server.pem");
      Path keyFile = dir.resolve("server-key.pem");
      Files.writeString(certFile, pem("CERTIFICATE", cert.getEncoded()));
      Files.writeString(keyFile, pem("PRIVATE KEY", key.getEncoded()));
      return new TestCertificates(certFile, keyFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a test certificate under " + dir, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the test certificate", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted making a test certificate", e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
