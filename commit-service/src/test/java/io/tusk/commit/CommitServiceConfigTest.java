package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.config.ConfigException;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.security.AuthConfig;
import io.tusk.common.security.CommandPolicy;
import io.tusk.testfixtures.TestAuth;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommitServiceConfigTest {

  /** {@code env} with the token keys every service needs (the test key set). */
  private static Map<String, String> withKeys(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(TestAuth.shared().env());
    all.putAll(env);
    return all;
  }

  @Test
  void shouldRefuseToStartNamingTheKeysWhenNoTokenKeysAreConfigured() {
    // Given the two Kafka keys and nothing about tokens
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
            "TUSK_REGISTRY_URL", "http://registry:8081");

    // When / Then loading fails naming both ways to give keys
    assertThatThrownBy(() -> CommitServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_AUTH_JWKS_URL")
        .hasMessageContaining("TUSK_AUTH_JWKS_FILE");
  }

  @Test
  void shouldApplyDefaultsWhenOnlyRequiredKeysAreSet() {
    // Given the two required keys
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
            "TUSK_REGISTRY_URL", "http://registry:8081");

    // When the config is read
    CommitServiceConfig config = CommitServiceConfig.from(withKeys(env));

    // Then the HTTP API listens on loopback only, port 8080, with authentication on
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.auth().enabled()).isTrue();
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.triggerPollMillis()).isEqualTo(500);
    assertThat(config.partitionUrl()).hasToString("http://127.0.0.1:8083");
    assertThat(config.kafka().bootstrapServers()).isEqualTo("broker:9092");
    assertThat(config.kafka().registryUrl()).isEqualTo("http://registry:8081");
  }

  @Test
  void shouldReadHostAndPortWhenSet() {
    // Given an explicit host and port 0
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
            "TUSK_REGISTRY_URL", "http://registry:8081",
            "TUSK_HTTP_HOST", "127.0.0.1",
            "TUSK_HTTP_PORT", "0");

    // When the config is read
    CommitServiceConfig config = CommitServiceConfig.from(withKeys(env));

    // Then both are used
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.httpPort()).isZero();
  }

  @Test
  void shouldFailNamingTheKeyWhenBootstrapServersAreMissing() {
    // Given no bootstrap servers
    Map<String, String> env = Map.of("TUSK_REGISTRY_URL", "http://registry:8081");

    // When / Then loading fails naming the key
    assertThatThrownBy(() -> CommitServiceConfig.from(withKeys(env)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_BOOTSTRAP_SERVERS");
  }

  @Test
  void shouldFailNamingTheKeyWhenThePortIsNotAPort() {
    // Given a port out of range
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
            "TUSK_REGISTRY_URL", "http://registry:8081",
            "TUSK_HTTP_PORT", "70000");

    // When / Then loading fails naming the key
    assertThatThrownBy(() -> CommitServiceConfig.from(withKeys(env)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_HTTP_PORT");
  }

  @Test
  void shouldFailNamingTheKeyWhenTheTriggerPollIsTooShort() {
    // Given a trigger poll of 1 ms
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
            "TUSK_REGISTRY_URL", "http://registry:8081",
            "TUSK_TRIGGER_POLL_MS", "1");

    // When / Then loading fails naming the key
    assertThatThrownBy(() -> CommitServiceConfig.from(withKeys(env)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_TRIGGER_POLL_MS");
  }

  @Test
  void shouldFailNamingTheKeyWhenThePartitionUrlIsNotHttp() {
    // Given a partition service address without scheme
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
            "TUSK_REGISTRY_URL", "http://registry:8081",
            "TUSK_PARTITION_URL", "partition-service:8083");

    // When / Then loading fails naming the key
    assertThatThrownBy(() -> CommitServiceConfig.from(withKeys(env)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_PARTITION_URL");
  }

  @Test
  void shouldListKafkaHttpAndServiceKeysWhenKeysAreAsked() {
    // When / Then the keys are the shared ones, the auth ones, plus the service's own
    assertThat(CommitServiceConfig.KEYS)
        .containsAll(KafkaSettings.KEYS)
        .containsAll(AuthConfig.KEYS)
        .contains(
            CommitServiceConfig.HTTP_HOST,
            CommitServiceConfig.HTTP_PORT,
            CommitServiceConfig.TRIGGER_POLL_MS,
            CommitServiceConfig.ERASURE_SWEEP_MS,
            CommitServiceConfig.PARTITION_URL,
            CommitServiceConfig.MEMBER_PARTITIONS,
            CommitServiceConfig.ADVERTISED_URL,
            CommandPolicy.ALLOWED_COMMANDS,
            NamesPrefix.KEY)
        .hasSize(KafkaSettings.KEYS.size() + AuthConfig.KEYS.size() + 9);
  }

  @Test
  void shouldFailNamingTheKeyWhenTheAdvertisedUrlHasNoPort() {
    // Given an advertised URL without a port
    Map<String, String> env =
        withKeys(
            Map.of(
                "TUSK_BOOTSTRAP_SERVERS", "broker:9092",
                "TUSK_REGISTRY_URL", "http://registry:8081",
                "TUSK_ADVERTISED_URL", "http://commit-1"));

    // When / Then the config is refused naming the key
    assertThatThrownBy(() -> CommitServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_ADVERTISED_URL");
  }
}
