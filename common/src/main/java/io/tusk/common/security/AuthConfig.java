package io.tusk.common.security;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.http.HttpTls;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How a service checks who calls it: where the token-signing keys come from (a local JWKS file or
 * an OIDC issuer's JWKS URL), the issuer and audience tokens must name, the subjects that are admin
 * from the start, whether {@code /metrics} is public, and the secret instances share on their
 * internal listener.
 *
 * <p>A service without keys refuses to start, naming {@code TUSK_AUTH_JWKS_URL} and {@code
 * TUSK_AUTH_JWKS_FILE}, unless the operator turned authentication off explicitly ({@code
 * TUSK_AUTH_DISABLED=true}, for development only).
 *
 * @param enabled false only when the operator turned authentication off
 * @param jwksFile a JWKS file (the local stack's and the tests'), or null
 * @param jwksUrl an OIDC issuer's JWKS URL, or null
 * @param issuer the {@code iss} every token must carry; empty: not checked
 * @param audience the {@code aud} every token must carry; empty: not checked
 * @param admins subjects that are admin whatever the role bindings say (Pachyderm's root)
 * @param metricsPublic true: {@code /metrics} answers without a token
 * @param internalSecret the secret instances send on their internal listener; empty when unset
 * @param jwksRefresh how often the keys are read again (key rotation)
 * @param tls HTTPS of the listener and the CA trusted calling other services
 */
public record AuthConfig(
    boolean enabled,
    Path jwksFile,
    URI jwksUrl,
    String issuer,
    String audience,
    Set<String> admins,
    boolean metricsPublic,
    String internalSecret,
    Duration jwksRefresh,
    HttpTls tls) {

  public static final ConfigKey JWKS_FILE =
      ConfigKey.optional(
          "TUSK_AUTH_JWKS_FILE",
          "",
          "JWKS file (JSON Web Key Set) of the keys bearer tokens are signed with; the local stack"
              + " writes one under .tusk/auth/. This or TUSK_AUTH_JWKS_URL is required");
  public static final ConfigKey JWKS_URL =
      ConfigKey.optional(
          "TUSK_AUTH_JWKS_URL",
          "",
          "JWKS URL of an OIDC issuer (its jwks_uri), read at start and every"
              + " TUSK_AUTH_JWKS_REFRESH_SECONDS. This or TUSK_AUTH_JWKS_FILE is required");
  public static final ConfigKey ISSUER =
      ConfigKey.optional(
          "TUSK_AUTH_ISSUER", "", "Issuer (iss) every token must name; empty: not checked");
  public static final ConfigKey AUDIENCE =
      ConfigKey.optional(
          "TUSK_AUTH_AUDIENCE", "", "Audience (aud) every token must name; empty: not checked");
  public static final ConfigKey ADMINS =
      ConfigKey.optional(
          "TUSK_AUTH_ADMINS",
          "",
          "Comma-separated token subjects that are admin (every right on everything), as"
              + " Pachyderm's root; more admins can be granted as role bindings");
  public static final ConfigKey METRICS_PUBLIC =
      ConfigKey.optional(
          "TUSK_METRICS_PUBLIC",
          "false",
          "true: /metrics answers without a token (for a Prometheus on a trusted network); false:"
              + " it needs reader on the cluster");
  public static final ConfigKey INTERNAL_SECRET =
      ConfigKey.optional(
          "TUSK_INTERNAL_SECRET",
          "",
          "Shared secret instances present on each other's internal listener (forwarded store"
              + " reads); required when authentication is on, the same on every instance");
  public static final ConfigKey JWKS_REFRESH_SECONDS =
      ConfigKey.optional(
          "TUSK_AUTH_JWKS_REFRESH_SECONDS",
          "300",
          "How often the signing keys are read again (key rotation); an unknown key ID also"
              + " triggers a read, at most every 30 s");
  public static final ConfigKey DISABLED =
      ConfigKey.optional(
          "TUSK_AUTH_DISABLED",
          "false",
          "true turns authentication off (every request is an anonymous admin): development only,"
              + " never with real data");

  /** The keys every service with an HTTP API reads (its TLS keys among them). */
  public static final List<ConfigKey> KEYS =
      List.of(
          JWKS_FILE,
          JWKS_URL,
          ISSUER,
          AUDIENCE,
          ADMINS,
          METRICS_PUBLIC,
          INTERNAL_SECRET,
          JWKS_REFRESH_SECONDS,
          DISABLED,
          HttpTls.CERT,
          HttpTls.KEY,
          HttpTls.CA_FILE);

  /** Shortest internal secret accepted: a guessable one would open the internal listener. */
  static final int MIN_SECRET_LENGTH = 16;

  public AuthConfig {
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(audience, "audience");
    admins = Set.copyOf(admins);
    Objects.requireNonNull(internalSecret, "internalSecret");
    Objects.requireNonNull(jwksRefresh, "jwksRefresh");
    Objects.requireNonNull(tls, "tls");
  }

  /**
   * Reads the keys from loaded config (whose keys include {@link #KEYS}).
   *
   * @throws ConfigException naming the key when no keys are configured, both are, the file does not
   *     exist or a value does not parse
   */
  public static AuthConfig from(Config config) {
    boolean disabled = config.flag(DISABLED);
    String file = config.string(JWKS_FILE);
    String url = config.string(JWKS_URL);
    if (!disabled && file.isEmpty() && url.isEmpty()) {
      throw new ConfigException(
          "no token keys configured: set "
              + JWKS_URL.name()
              + " (an OIDC issuer's JWKS URL) or "
              + JWKS_FILE.name()
              + " (a JWKS file); every HTTP endpoint needs a bearer token");
    }
    if (!file.isEmpty() && !url.isEmpty()) {
      throw new ConfigException(
          "set only one of " + JWKS_FILE.name() + " and " + JWKS_URL.name() + ", not both");
    }
    Path jwksFile = null;
    if (!file.isEmpty()) {
      jwksFile = Path.of(file);
      if (!Files.isReadable(jwksFile)) {
        throw new ConfigException(JWKS_FILE.name() + " names no readable file: " + file);
      }
    }
    URI jwksUrl = url.isEmpty() ? null : config.httpUrl(JWKS_URL, false);
    String secret = config.string(INTERNAL_SECRET);
    if (!secret.isEmpty() && secret.length() < MIN_SECRET_LENGTH) {
      throw new ConfigException(
          INTERNAL_SECRET.name() + " must be at least " + MIN_SECRET_LENGTH + " characters");
    }
    return new AuthConfig(
        !disabled,
        jwksFile,
        jwksUrl,
        config.string(ISSUER),
        config.string(AUDIENCE),
        Set.copyOf(config.list(ADMINS)),
        config.flag(METRICS_PUBLIC),
        secret,
        Duration.ofSeconds(config.integer(JWKS_REFRESH_SECONDS, 1)),
        HttpTls.from(config));
  }

  /** Authentication off: every request is an anonymous admin. For development and unit tests. */
  public static AuthConfig disabled() {
    return new AuthConfig(
        false, null, null, "", "", Set.of(), true, "", Duration.ofMinutes(5), HttpTls.NONE);
  }

  /**
   * The internal secret, for a service that serves an internal listener.
   *
   * @throws ConfigException naming {@code TUSK_INTERNAL_SECRET} when authentication is on and it is
   *     not set
   */
  public String requireInternalSecret() {
    if (enabled && internalSecret.isEmpty()) {
      throw new ConfigException(
          INTERNAL_SECRET.name()
              + " is required when authentication is on: instances present it on each other's"
              + " internal listener");
    }
    return internalSecret;
  }
}
