package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import io.tusk.common.http.ApiException;
import io.tusk.localstack.AuthKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The token parser with real keys (a local key set made by {@link AuthKeys}): a good token gives
 * its subject; everything else (random bytes, truncated, alg=none, another key, expired, another
 * issuer or audience, no subject, no expiry) is a 401 {@link ApiException}, never anything else.
 */
class TokenVerifierTest {
  private static final long SEED = 20261204L;
  private static final Base64.Encoder URL = Base64.getUrlEncoder().withoutPadding();

  @TempDir static Path dir;
  static Vertx vertx;
  static AuthKeys keys;
  static AuthKeys otherKeys;
  static TokenVerifier verifier;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    keys = AuthKeys.loadOrCreate(dir.resolve("keys"));
    otherKeys = AuthKeys.loadOrCreate(dir.resolve("other-keys"));
    verifier = TokenVerifier.start(vertx, config(keys, "api"));
  }

  @AfterAll
  static void stop() throws Exception {
    verifier.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static AuthConfig config(AuthKeys keys, String audience) {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_AUTH_JWKS_FILE", keys.jwksFile().toString());
    env.put("TUSK_AUTH_ISSUER", AuthKeys.ISSUER);
    env.put("TUSK_AUTH_AUDIENCE", audience);
    return AuthConfig.from(Config.load(env, AuthConfig.KEYS));
  }

  @Test
  void shouldGiveTheSubjectWhenTheTokenIsGood() throws Exception {
    // Given a token of the configured key, issuer and audience
    Instant now = Instant.now();
    String token = keys.mint("alice@example.org", AuthKeys.ISSUER, "api", now, now.plusSeconds(60));

    // When it is verified / Then its subject is the principal
    assertThat(await(verifier.verify(token))).isEqualTo(new Principal("alice@example.org"));
  }

  @Test
  void shouldKeepTheKeysWhenTheSameKeySetIsReadAgain() throws Exception {
    // Given the key set written again (as the local stack does at every start)
    AuthKeys again = AuthKeys.loadOrCreate(dir.resolve("keys"));

    // Then it is the same key: old tokens still verify
    assertThat(again.keyId()).isEqualTo(keys.keyId());
    Instant now = Instant.now();
    String token = again.mint("bob", AuthKeys.ISSUER, "api", now, now.plusSeconds(60));
    assertThat(await(verifier.verify(token)).subject()).isEqualTo("bob");
  }

  static Stream<Arguments> badTokens() {
    Instant now = Instant.now();
    String good = keys.mint("alice", AuthKeys.ISSUER, "api", now, now.plusSeconds(60));
    String[] parts = good.split("\\.");
    List<Arguments> cases = new ArrayList<>();
    cases.add(Arguments.of("empty", ""));
    cases.add(Arguments.of("one part", "abc"));
    cases.add(Arguments.of("truncated signature", good.substring(0, good.length() - 10)));
    cases.add(Arguments.of("truncated after the header", parts[0] + "."));
    cases.add(Arguments.of("no signature", parts[0] + "." + parts[1] + "."));
    cases.add(
        Arguments.of("alg none", b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + "."));
    cases.add(
        Arguments.of(
            "alg none with the kid",
            b64("{\"alg\":\"none\",\"kid\":\"" + keys.keyId() + "\"}") + "." + parts[1] + "."));
    cases.add(
        Arguments.of(
            "alg HS256 signed with the public key as secret",
            b64("{\"alg\":\"HS256\",\"kid\":\"" + keys.keyId() + "\"}")
                + "."
                + parts[1]
                + "."
                + parts[2]));
    cases.add(
        Arguments.of(
            "another key",
            otherKeys.mint("alice", AuthKeys.ISSUER, "api", now, now.plusSeconds(60))));
    cases.add(
        Arguments.of(
            "payload swapped",
            parts[0]
                + "."
                + b64("{\"sub\":\"admin\",\"exp\":" + (now.getEpochSecond() + 60) + "}")
                + "."
                + parts[2]));
    cases.add(
        Arguments.of(
            "expired",
            keys.mint(
                "alice", AuthKeys.ISSUER, "api", now.minusSeconds(600), now.minusSeconds(300))));
    cases.add(
        Arguments.of(
            "another issuer", keys.mint("alice", "evil", "api", now, now.plusSeconds(60))));
    cases.add(Arguments.of("no issuer", keys.mint("alice", null, "api", now, now.plusSeconds(60))));
    cases.add(
        Arguments.of(
            "another audience",
            keys.mint("alice", AuthKeys.ISSUER, "other", now, now.plusSeconds(60))));
    cases.add(
        Arguments.of(
            "no subject",
            keys.sign(
                "{\"iss\":\"tusk-local\",\"aud\":\"api\",\"exp\":"
                    + (now.getEpochSecond() + 60)
                    + "}")));
    cases.add(
        Arguments.of(
            "blank subject",
            keys.sign(
                "{\"sub\":\" \",\"iss\":\"tusk-local\",\"aud\":\"api\",\"exp\":"
                    + (now.getEpochSecond() + 60)
                    + "}")));
    cases.add(
        Arguments.of(
            "subject not a string",
            keys.sign(
                "{\"sub\":42,\"iss\":\"tusk-local\",\"aud\":\"api\",\"exp\":"
                    + (now.getEpochSecond() + 60)
                    + "}")));
    cases.add(
        Arguments.of(
            "no expiry", keys.sign("{\"sub\":\"alice\",\"iss\":\"tusk-local\",\"aud\":\"api\"}")));
    cases.add(Arguments.of("payload not JSON", keys.sign("not json")));
    cases.add(Arguments.of("payload a JSON array", keys.sign("[1,2]")));
    cases.add(Arguments.of("oversized", "a".repeat(TokenVerifier.MAX_TOKEN_LENGTH + 1)));
    cases.add(Arguments.of("header not base64", "%%%." + parts[1] + "." + parts[2]));
    cases.add(Arguments.of("header not JSON", b64("nope") + "." + parts[1] + "." + parts[2]));
    Random random = new Random(SEED);
    for (int i = 0; i < 40; i++) {
      byte[] bytes = new byte[1 + random.nextInt(300)];
      random.nextBytes(bytes);
      cases.add(
          Arguments.of(
              "random bytes #" + i + " (seed " + SEED + ")",
              new String(bytes, StandardCharsets.ISO_8859_1)));
      String dotted = URL.encodeToString(bytes) + "." + parts[1] + "." + URL.encodeToString(bytes);
      cases.add(Arguments.of("random header and signature #" + i, dotted));
      int cut = 1 + random.nextInt(good.length() - 1);
      cases.add(Arguments.of("cut at " + cut, good.substring(0, cut)));
      char[] flipped = good.toCharArray();
      int at = random.nextInt(flipped.length);
      flipped[at] = changedBase64Url(flipped[at]);
      String flippedToken = new String(flipped);
      if (!flippedToken.equals(good)) {
        cases.add(Arguments.of("one character changed at " + at, flippedToken));
      }
    }
    return cases.stream();
  }

  /**
   * Another base64url character whose 6 bits differ in the highest one: the low bits of a part's
   * last character may be padding the decoder ignores (A and B decode alike there), the highest
   * never is. Not a base64url character (a dot): 'A'.
   */
  private static char changedBase64Url(char c) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int value = alphabet.indexOf(c);
    return value < 0 ? 'A' : alphabet.charAt(value ^ 32);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badTokens")
  void shouldRefuseWith401WhenTheTokenIsBad(String name, String token) {
    // When a bad token is verified
    Future<Principal> result = verifier.verify(token);

    // Then it fails with a 401 ApiException, whatever the input
    assertThatThrownBy(() -> await(result))
        .as(name)
        .isInstanceOf(ApiException.class)
        .satisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(401))
        .hasMessageStartingWith("invalid bearer token");
  }

  @Test
  void shouldRefuseToStartWhenTheKeyFileHoldsNoKey() throws Exception {
    // Given a JWKS file with no signing key
    Path empty = dir.resolve("empty-jwks.json");
    Files.writeString(empty, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
    Map<String, String> env = Map.of("TUSK_AUTH_JWKS_FILE", empty.toString());
    AuthConfig config = AuthConfig.from(Config.load(env, AuthConfig.KEYS));

    // When a verifier starts on it / Then it fails naming the key
    assertThatThrownBy(() -> TokenVerifier.start(vertx, config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_AUTH_JWKS_FILE")
        .hasMessageContaining("no RSA or EC signing key");
  }

  @Test
  void shouldServeEveryoneAsAnonymousWhenAuthenticationIsOff() throws Exception {
    TokenVerifier off = TokenVerifier.start(vertx, AuthConfig.disabled());
    assertThat(await(off.verify(null))).isEqualTo(Principal.ANONYMOUS);
  }

  @Test
  void shouldReadNewKeysWhenTheFileChangesAndRefuseTokensOfTheOldOnesEvenIfRemembered()
      throws Exception {
    // Given a verifier of a key file and a token of its key it verified (and remembers), then the
    // file replaced by another key set (the old key revoked)
    Path file = dir.resolve("rotating.json");
    Files.writeString(file, keys.jwks());
    Map<String, String> env =
        Map.of("TUSK_AUTH_JWKS_FILE", file.toString(), "TUSK_AUTH_JWKS_REFRESH_SECONDS", "1");
    TokenVerifier rotating =
        TokenVerifier.start(vertx, AuthConfig.from(Config.load(env, AuthConfig.KEYS)));
    try {
      String old = keys.mint("erin", Duration.ofMinutes(5));
      assertThat(await(rotating.verify(old)).subject()).isEqualTo("erin");
      Files.writeString(file, otherKeys.jwks());

      // When tokens of the new key arrive / Then they verify once the periodic read ran
      String token = otherKeys.mint("carol", Duration.ofMinutes(5));
      io.tusk.testfixtures.Await.until(
          "the new key is read",
          Duration.ofSeconds(20),
          () -> {
            try {
              return await(rotating.verify(token)).subject();
            } catch (Exception e) {
              return null;
            }
          },
          "carol"::equals);

      // And the token of the revoked key is refused, though it was remembered
      assertThatThrownBy(() -> await(rotating.verify(old)))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(401));
    } finally {
      rotating.close();
    }
  }

  @Test
  void shouldRefuseARememberedTokenOnceItExpires() throws Exception {
    // Given a token past its expiry by 28 s: still accepted within the 30 s clock skew
    Instant now = Instant.now();
    Instant expiry = now.minusSeconds(28);
    String token = keys.mint("dave", AuthKeys.ISSUER, "api", now.minusSeconds(60), expiry);
    assertThat(await(verifier.verify(token)).subject()).isEqualTo("dave");

    // When it is sent again after the skew has passed (the clock is the condition waited on)
    long acceptedUntil = expiry.plusSeconds(30).toEpochMilli();
    while (System.currentTimeMillis() <= acceptedUntil) {
      java.util.concurrent.locks.LockSupport.parkNanos(
          TimeUnit.MILLISECONDS.toNanos(acceptedUntil + 1 - System.currentTimeMillis()));
    }

    // Then the verification remembered does not outlive it: 401
    assertThatThrownBy(() -> await(verifier.verify(token)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(401));
  }

  @Test
  void shouldVerifyWithTheIssuersKeysWhenGivenAJwksUrlAndRefuseToStartWhenItFails()
      throws Exception {
    // Given an issuer serving its key set over HTTP (and failing on another path)
    io.vertx.core.http.HttpServer issuer =
        vertx
            .createHttpServer()
            .requestHandler(
                request -> {
                  if (request.path().equals("/.well-known/jwks.json")) {
                    request
                        .response()
                        .putHeader("Content-Type", "application/json")
                        .end(keys.jwks());
                  } else {
                    request.response().setStatusCode(500).end();
                  }
                })
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    try {
      String base = "http://127.0.0.1:" + issuer.actualPort();
      AuthConfig config =
          AuthConfig.from(
              Config.load(
                  Map.of("TUSK_AUTH_JWKS_URL", base + "/.well-known/jwks.json"), AuthConfig.KEYS));

      // When a verifier starts on the URL / Then tokens of the issuer's key verify
      TokenVerifier fromUrl = TokenVerifier.start(vertx, config);
      try {
        assertThat(await(fromUrl.verify(keys.mint("dana", Duration.ofMinutes(5)))).subject())
            .isEqualTo("dana");
        assertThatThrownBy(
                () -> await(fromUrl.verify(otherKeys.mint("dana", Duration.ofMinutes(5)))))
            .isInstanceOf(ApiException.class);
      } finally {
        fromUrl.close();
      }

      // When the URL answers an error / Then the service does not start, naming the key
      AuthConfig broken =
          AuthConfig.from(
              Config.load(Map.of("TUSK_AUTH_JWKS_URL", base + "/broken"), AuthConfig.KEYS));
      assertThatThrownBy(() -> TokenVerifier.start(vertx, broken))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("TUSK_AUTH_JWKS_URL")
          .hasMessageContaining("500");
    } finally {
      issuer.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static String b64(String json) {
    return URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }
}
