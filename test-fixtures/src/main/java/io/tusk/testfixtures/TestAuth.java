package io.tusk.testfixtures;

import io.tusk.localstack.AuthKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Bearer tokens for tests: one test key set per test JVM (under {@code target/test-auth}), the
 * environment that points a service's config at it ({@link #env}: the JWKS file, the issuer, the
 * admin subject {@link #ADMIN}, the internal secret), and tokens for any subject. What a subject
 * may do is then up to the role bindings the test grants, as in production.
 */
public final class TestAuth {
  /** The subject the services are told is admin. */
  public static final String ADMIN = "test-admin";

  private static final Duration VALIDITY = Duration.ofHours(2);
  private static TestAuth shared;

  private final AuthKeys keys;

  private TestAuth(AuthKeys keys) {
    this.keys = keys;
  }

  /** The test key set of this JVM, made on first use. */
  public static synchronized TestAuth shared() {
    if (shared == null) {
      shared = new TestAuth(AuthKeys.loadOrCreate(Path.of("target", "test-auth")));
    }
    return shared;
  }

  /** The auth keys of a service's environment: add them to its other keys. */
  public Map<String, String> env() {
    return Map.of(
        "TUSK_AUTH_JWKS_FILE",
        keys.jwksFile().toAbsolutePath().toString(),
        "TUSK_AUTH_ISSUER",
        AuthKeys.ISSUER,
        "TUSK_AUTH_ADMINS",
        ADMIN,
        "TUSK_INTERNAL_SECRET",
        keys.internalSecret());
  }

  /** A valid token (two hours) for {@code subject}. */
  public String token(String subject) {
    return keys.mint(subject, VALIDITY);
  }

  /** The value of an Authorization header for {@code subject}. */
  public String bearer(String subject) {
    return "Bearer " + token(subject);
  }

  /** A token of the admin subject. */
  public String adminToken() {
    return token(ADMIN);
  }

  /** The key set itself, to mint unusual tokens (expired, another issuer). */
  public AuthKeys keys() {
    return keys;
  }
}
