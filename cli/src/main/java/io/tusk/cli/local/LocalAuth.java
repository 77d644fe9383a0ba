package io.tusk.cli.local;

import io.tusk.common.security.AuthConfig;
import io.tusk.localstack.AuthKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Authentication of a local Tusk ({@code ./tusk up}, {@code ./tusk demo}, the end-to-end tests):
 * the key pair under {@code <home>/auth/} (the private key stays there, owner-only), the services'
 * configuration pointing at its public JWKS file with {@link #ADMIN} as admin, and the admin's
 * token in {@code <home>/token} (owner-only), which the CLI sends when no other token is given.
 */
public final class LocalAuth {
  /** The subject of the local stack's admin (the token in {@code <home>/token}). */
  public static final String ADMIN = "tusk-admin";

  /** How long the local admin token is valid; each start writes a fresh one. */
  static final Duration ADMIN_TOKEN_VALIDITY = Duration.ofDays(30);

  /** The token file under a home directory. */
  public static final String TOKEN_FILE = "token";

  private final AuthKeys keys;
  private final String adminToken;

  private LocalAuth(AuthKeys keys) {
    this.keys = keys;
    this.adminToken = keys.mint(ADMIN, ADMIN_TOKEN_VALIDITY);
  }

  /** The keys under {@code home/auth} (made on first use). */
  public static LocalAuth of(Path home) {
    return new LocalAuth(AuthKeys.loadOrCreate(home.resolve("auth")));
  }

  /** The services' auth keys: the JWKS file, the issuer, the admin, the internal secret. */
  Map<String, String> env() {
    return Map.of(
        AuthConfig.JWKS_FILE.name(),
        keys.jwksFile().toAbsolutePath().toString(),
        AuthConfig.ISSUER.name(),
        AuthKeys.ISSUER,
        AuthConfig.ADMINS.name(),
        ADMIN,
        AuthConfig.INTERNAL_SECRET.name(),
        keys.internalSecret());
  }

  /** The admin's token (valid {@link #ADMIN_TOKEN_VALIDITY} from this start). */
  public String adminToken() {
    return adminToken;
  }

  /** A token for {@code subject}, valid for {@code validity}: for {@code tusk auth token}. */
  public String token(String subject, Duration validity) {
    return keys.mint(subject, validity);
  }

  /** Writes the admin's token to {@code home/token}, readable by the owner only. */
  void writeTokenFile(Path home) {
    try {
      AuthKeys.writeOwnerOnly(home.resolve(TOKEN_FILE), adminToken + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the local admin token to " + home, e);
    }
  }
}
