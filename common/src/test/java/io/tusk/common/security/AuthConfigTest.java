package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the auth keys: a deployment without token keys does not start, naming the keys. */
class AuthConfigTest {
  @TempDir Path dir;

  private static AuthConfig from(Map<String, String> env) {
    return AuthConfig.from(Config.load(env, AuthConfig.KEYS));
  }

  @Test
  void shouldRefuseToStartNamingBothKeysWhenNoKeysAreConfigured() {
    assertThatThrownBy(() -> from(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_AUTH_JWKS_URL")
        .hasMessageContaining("TUSK_AUTH_JWKS_FILE");
  }

  @Test
  void shouldRefuseWhenBothKeySourcesAreSet() throws Exception {
    Path file = Files.writeString(dir.resolve("jwks.json"), "{}");
    assertThatThrownBy(
            () ->
                from(
                    Map.of(
                        "TUSK_AUTH_JWKS_FILE",
                        file.toString(),
                        "TUSK_AUTH_JWKS_URL",
                        "https://issuer.example/jwks")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("only one");
  }

  @Test
  void shouldRefuseWhenTheKeyFileDoesNotExist() {
    assertThatThrownBy(() -> from(Map.of("TUSK_AUTH_JWKS_FILE", dir.resolve("none").toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_AUTH_JWKS_FILE");
  }

  @Test
  void shouldReadEveryKeyWhenTheyAreSet() throws Exception {
    Path file = Files.writeString(dir.resolve("jwks.json"), "{}");
    AuthConfig config =
        from(
            Map.of(
                "TUSK_AUTH_JWKS_FILE", file.toString(),
                "TUSK_AUTH_ISSUER", "https://issuer.example/",
                "TUSK_AUTH_AUDIENCE", "tusk",
                "TUSK_AUTH_ADMINS", "root, ops@example.org",
                "TUSK_METRICS_PUBLIC", "true",
                "TUSK_INTERNAL_SECRET", "0123456789abcdef0123"));
    assertThat(config.enabled()).isTrue();
    assertThat(config.jwksFile()).isEqualTo(file);
    assertThat(config.admins()).isEqualTo(Set.of("root", "ops@example.org"));
    assertThat(config.metricsPublic()).isTrue();
    assertThat(config.requireInternalSecret()).isEqualTo("0123456789abcdef0123");
  }

  @Test
  void shouldRequireTheInternalSecretWhenAuthenticationIsOnAndItIsAsked() throws Exception {
    Path file = Files.writeString(dir.resolve("jwks.json"), "{}");
    AuthConfig config = from(Map.of("TUSK_AUTH_JWKS_FILE", file.toString()));
    assertThatThrownBy(config::requireInternalSecret)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_INTERNAL_SECRET");
  }

  @Test
  void shouldRefuseAShortSecretOrABadFlag() throws Exception {
    Path file = Files.writeString(dir.resolve("jwks.json"), "{}");
    assertThatThrownBy(
            () ->
                from(
                    Map.of(
                        "TUSK_AUTH_JWKS_FILE", file.toString(), "TUSK_INTERNAL_SECRET", "short")))
        .hasMessageContaining("TUSK_INTERNAL_SECRET");
    assertThatThrownBy(
            () ->
                from(Map.of("TUSK_AUTH_JWKS_FILE", file.toString(), "TUSK_METRICS_PUBLIC", "yes")))
        .hasMessageContaining("TUSK_METRICS_PUBLIC");
  }

  @Test
  void shouldStartWithoutKeysWhenTheOperatorTurnedAuthenticationOff() {
    AuthConfig config = from(Map.of("TUSK_AUTH_DISABLED", "true"));
    assertThat(config.enabled()).isFalse();
    assertThat(config.requireInternalSecret()).isEmpty();
  }
}
