package io.tusk.common.security;

import io.tusk.common.config.ConfigException;
import io.tusk.common.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies bearer tokens (JWTs) with vertx-auth-jwt against the operator's keys: the signature by a
 * key of the configured JWKS (file or URL), expiry ({@code exp} required, 30 s of clock skew), and
 * the issuer and audience when configured. The keys are read at start (a service without usable
 * keys does not start) and again every {@code TUSK_AUTH_JWKS_REFRESH_SECONDS}, and when a token
 * names a key ID not seen yet (at most every 30 s); each read swaps in a new {@link JWTAuth}
 * atomically, so a bad read leaves the last good keys in place.
 *
 * <p>Verification does no I/O: it runs on the event loop. A token verified once is remembered with
 * the keys that verified it until it expires (its {@code exp} plus the clock skew), so a client's
 * next requests skip the signature check, which was the largest part of a lookup's event-loop time
 * (JFR, {@code tusk bench lineage}); new keys forget every remembered token.
 */
public final class TokenVerifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenVerifier.class);
  private static final int LEEWAY_SECONDS = 30;
  private static final long MILLIS_PER_SECOND = 1000;
  private static final long UNKNOWN_KEY_REFRESH_MILLIS = 30_000;
  private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);

  /** Longest token accepted: a real one is a few KB; anything larger is refused unparsed. */
  static final int MAX_TOKEN_LENGTH = 16 * 1024;

  /** Most verified tokens remembered; when full, all are forgotten (they verify again). */
  static final int MAX_REMEMBERED_TOKENS = 10_000;

  private final Vertx vertx;
  private final AuthConfig config;
  private final AtomicReference<JWTAuth> auth = new AtomicReference<>();
  private final AtomicLong lastRefresh = new AtomicLong();
  private final Map<String, Verified> verified = new ConcurrentHashMap<>();
  private final HttpClient http;
  private long timer = -1;

  private TokenVerifier(Vertx vertx, AuthConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.http =
        config.jwksUrl() == null
            ? null
            : HttpClient.newBuilder()
                .connectTimeout(FETCH_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
  }

  /**
   * Reads the keys (blocking: call at start, not on an event loop) and schedules their refresh.
   *
   * @throws ConfigException naming the key when the keys cannot be read or hold no signing key
   */
  public static TokenVerifier start(Vertx vertx, AuthConfig config) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(config, "config");
    TokenVerifier verifier = new TokenVerifier(vertx, config);
    if (!config.enabled()) {
      return verifier;
    }
    verifier.auth.set(verifier.load());
    verifier.lastRefresh.set(System.currentTimeMillis());
    verifier.timer =
        vertx.setPeriodic(config.jwksRefresh().toMillis(), id -> verifier.refreshInBackground());
    return verifier;
  }

  /**
   * The principal of a bearer token, or a failed future with a 401 {@link ApiException} saying why
   * the token was refused (never echoing the token).
   */
  public Future<Principal> verify(String token) {
    if (!config.enabled()) {
      return Future.succeededFuture(Principal.ANONYMOUS);
    }
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
      return Future.failedFuture(invalid("not a JWT"));
    }
    JWTAuth keys = auth.get();
    Verified known = verified.get(token);
    if (known != null && known.keys() == keys && System.currentTimeMillis() < known.until()) {
      return Future.succeededFuture(known.principal());
    }
    Future<User> user;
    try {
      user = keys.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      // The parser throws on some malformed input instead of failing the future.
      return Future.failedFuture(invalid(reason(e)));
    }
    return user.transform(
        result -> {
          if (result.failed()) {
            String reason = reason(result.cause());
            if (reason.contains("kid") || reason.toLowerCase().contains("key")) {
              refreshSoon();
            }
            return Future.failedFuture(invalid(reason));
          }
          Future<Principal> principal = principalOf(result.result());
          if (principal.succeeded()) {
            remember(token, keys, principal.result(), result.result());
          }
          return principal;
        });
  }

  /** A token the keys {@code keys} verified, trusted again until {@code until} (epoch ms). */
  private record Verified(JWTAuth keys, Principal principal, long until) {}

  private void remember(String token, JWTAuth keys, Principal principal, User user) {
    long expiry = claimsOf(user).getLong("exp");
    if (verified.size() >= MAX_REMEMBERED_TOKENS) {
      verified.clear();
    }
    // The library accepts a token until exp + leeway; so does the memory of it, never longer.
    verified.put(
        token, new Verified(keys, principal, (expiry + LEEWAY_SECONDS) * MILLIS_PER_SECOND));
  }

  private static JsonObject claimsOf(User user) {
    return user.attributes().getJsonObject("accessToken", user.principal());
  }

  private static Future<Principal> principalOf(User user) {
    JsonObject claims = claimsOf(user);
    Object subject = claims.getValue("sub");
    if (!(subject instanceof String text) || text.isBlank()) {
      return Future.failedFuture(invalid("the token has no subject (sub)"));
    }
    if (!(claims.getValue("exp") instanceof Number)) {
      return Future.failedFuture(invalid("the token has no expiry (exp)"));
    }
    return Future.succeededFuture(new Principal(text));
  }

  private static ApiException invalid(String reason) {
    return new ApiException(401, "unauthenticated", "invalid bearer token: " + reason);
  }

  /** A short, safe reason: the library's message without the token, bounded. */
  private static String reason(Throwable failure) {
    String message =
        failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
    message = message.replaceAll("[\\r\\n]", " ");
    return message.length() > 200 ? message.substring(0, 200) : message;
  }

  private void refreshSoon() {
    long now = System.currentTimeMillis();
    long last = lastRefresh.get();
    if (now - last >= UNKNOWN_KEY_REFRESH_MILLIS && lastRefresh.compareAndSet(last, now)) {
      refreshInBackground();
    }
  }

  private void refreshInBackground() {
    vertx
        .executeBlocking(this::load, false)
        .onSuccess(
            fresh -> {
              auth.set(fresh);
              verified.clear();
              lastRefresh.set(System.currentTimeMillis());
            })
        .onFailure(
            failure ->
                log.warn(
                    "Could not read the token keys again, keeping the last ones: {}",
                    failure.getMessage()));
  }

  /** Reads the key set and builds a verifier of it. */
  private JWTAuth load() {
    String source =
        config.jwksFile() != null ? config.jwksFile().toString() : config.jwksUrl().toString();
    String keyName =
        config.jwksFile() != null ? AuthConfig.JWKS_FILE.name() : AuthConfig.JWKS_URL.name();
    JsonArray keys;
    try {
      keys = new JsonObject(read()).getJsonArray("keys");
    } catch (DecodeException | ClassCastException e) {
      throw new ConfigException(
          keyName + " (" + source + ") is not a JSON Web Key Set: " + e.getMessage());
    }
    JWTAuthOptions options = new JWTAuthOptions();
    int usable = 0;
    for (Object key : keys == null ? new JsonArray() : keys) {
      if (key instanceof JsonObject jwk && isSigningKey(jwk)) {
        options.addJwk(withAlgorithm(jwk.copy()));
        usable++;
      }
    }
    if (usable == 0) {
      throw new ConfigException(keyName + " (" + source + ") holds no RSA or EC signing key");
    }
    JWTOptions checks = new JWTOptions().setLeeway(LEEWAY_SECONDS);
    if (!config.issuer().isEmpty()) {
      checks.setIssuer(config.issuer());
    }
    if (!config.audience().isEmpty()) {
      checks.setAudience(List.of(config.audience()));
    }
    options.setJWTOptions(checks);
    try {
      return JWTAuth.create(vertx, options);
    } catch (RuntimeException e) {
      throw new ConfigException(
          keyName + " (" + source + ") holds a key that cannot be used: " + e.getMessage());
    }
  }

  private String read() {
    if (config.jwksFile() != null) {
      try {
        return Files.readString(config.jwksFile());
      } catch (IOException e) {
        throw new ConfigException(
            AuthConfig.JWKS_FILE.name()
                + " cannot be read: "
                + config.jwksFile()
                + ": "
                + e.getMessage());
      }
    }
    URI url = config.jwksUrl();
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(url).timeout(FETCH_TIMEOUT).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new ConfigException(
            AuthConfig.JWKS_URL.name() + " " + url + " answered " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new ConfigException(
          AuthConfig.JWKS_URL.name() + " " + url + " cannot be read: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConfigException("interrupted reading " + AuthConfig.JWKS_URL.name() + " " + url);
    }
  }

  /** Signature keys only: an issuer's set may also hold encryption keys. */
  private static boolean isSigningKey(JsonObject jwk) {
    String use = jwk.getString("use");
    String kty = jwk.getString("kty");
    return (use == null || use.equals("sig")) && ("RSA".equals(kty) || "EC".equals(kty));
  }

  /** Keys without {@code alg} (allowed by RFC 7517) get their type's usual algorithm. */
  private static JsonObject withAlgorithm(JsonObject jwk) {
    if (jwk.getString("alg") == null) {
      String alg =
          "RSA".equals(jwk.getString("kty"))
              ? "RS256"
              : switch (String.valueOf(jwk.getString("crv"))) {
                case "P-384" -> "ES384";
                case "P-521" -> "ES512";
                default -> "ES256";
              };
      jwk.put("alg", alg);
    }
    return jwk;
  }

  @Override
  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }
}
