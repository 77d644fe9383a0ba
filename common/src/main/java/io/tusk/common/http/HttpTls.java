package io.tusk.common.http;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import io.tusk.common.config.ConfigKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * TLS of a service's HTTP listener, when the operator gives a certificate: the certificate chain
 * and its private key as PEM files ({@code TUSK_HTTP_TLS_CERT}, {@code TUSK_HTTP_TLS_KEY}), and a
 * CA file ({@code TUSK_CA_FILE}) the service trusts when it calls another service over https (the
 * commit service forwarding to the partition service); without it, the JVM's trust store.
 *
 * @param cert the certificate chain (PEM), or null: plain HTTP
 * @param key the private key (PEM, PKCS#8), or null
 * @param caFile extra trusted CA certificates (PEM), or null
 */
public record HttpTls(Path cert, Path key, Path caFile) {

  public static final ConfigKey CERT =
      ConfigKey.optional(
          "TUSK_HTTP_TLS_CERT",
          "",
          "PEM certificate chain of the HTTP listener; with TUSK_HTTP_TLS_KEY the API is served"
              + " over HTTPS only");
  public static final ConfigKey KEY =
      ConfigKey.optional("TUSK_HTTP_TLS_KEY", "", "PEM private key (PKCS#8) of TUSK_HTTP_TLS_CERT");
  public static final ConfigKey CA_FILE =
      ConfigKey.optional(
          "TUSK_CA_FILE",
          "",
          "PEM CA certificates trusted when calling another Tusk service over HTTPS (besides the"
              + " JVM's trust store)");

  /** The keys. */
  public static final List<ConfigKey> KEYS = List.of(CERT, KEY, CA_FILE);

  /** No TLS. */
  public static final HttpTls NONE = new HttpTls(null, null, null);

  /**
   * Reads the keys.
   *
   * @throws ConfigException naming the key when only one of certificate and key is set or a file is
   *     not readable
   */
  public static HttpTls from(Config config) {
    Path cert = file(config, CERT);
    Path key = file(config, KEY);
    if ((cert == null) != (key == null)) {
      throw new ConfigException(
          "set both " + CERT.name() + " and " + KEY.name() + " (PEM files), or neither");
    }
    return new HttpTls(cert, key, file(config, CA_FILE));
  }

  /** True when the listener serves HTTPS. */
  public boolean enabled() {
    return cert != null;
  }

  private static Path file(Config config, ConfigKey key) {
    String value = config.string(key);
    if (value.isEmpty()) {
      return null;
    }
    Path path = Path.of(value);
    if (!Files.isReadable(path)) {
      throw new ConfigException(key.name() + " names no readable file: " + value);
    }
    return path;
  }
}
