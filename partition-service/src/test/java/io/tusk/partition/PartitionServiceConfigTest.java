package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.config.ConfigException;
import io.tusk.common.config.StreamsScaling;
import io.tusk.testfixtures.TestAuth;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PartitionServiceConfigTest {
  /** The Kafka keys and the token keys (the test key set). */
  private static final Map<String, String> REQUIRED = required();

  private static Map<String, String> required() {
    Map<String, String> env = new HashMap<>(TestAuth.shared().env());
    env.put("TUSK_BOOTSTRAP_SERVERS", "localhost:9092");
    env.put("TUSK_REGISTRY_URL", "http://localhost:8081");
    return Map.copyOf(env);
  }

  @Test
  void shouldRefuseToStartNamingTheKeysWhenNoTokenKeysAreConfigured() {
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "localhost:9092",
            "TUSK_REGISTRY_URL", "http://localhost:8081");
    assertThatThrownBy(() -> PartitionServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_AUTH_JWKS_URL")
        .hasMessageContaining("TUSK_AUTH_JWKS_FILE");
  }

  @Test
  void shouldApplyDefaultsWhenOnlyRequiredKeysAreSet() {
    // When only the required keys are set
    PartitionServiceConfig config = PartitionServiceConfig.from(REQUIRED);

    // Then the documented defaults apply
    assertThat(config.stateDir()).isEqualTo("state/partition-service");
    assertThat(config.rekeyerThreads()).isEqualTo(1);
    assertThat(config.streamThreads()).isEqualTo(1);
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.auth().enabled()).isTrue();
    assertThat(config.httpPort()).isEqualTo(8083);
    assertThat(config.completion()).isEqualTo(CompletionSettings.DEFAULTS);
    assertThat(config.kafka().bootstrapServers()).isEqualTo("localhost:9092");
  }

  @Test
  void shouldReadEveryKeyWhenSet() {
    // Given every key of the service
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_STATE_DIR", "/tmp/p");
    env.put("TUSK_REKEYER_THREADS", "3");
    env.put("TUSK_STREAM_THREADS", "2");
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.put("TUSK_COMPLETION_SLICE_ROWS", "100");
    env.put("TUSK_COMPLETION_SLICE_MEMBERS", "10");
    env.put("TUSK_COMPLETION_INTERVAL_MS", "50");
    env.put("TUSK_STATIC_MEMBERSHIP", "true");
    env.put("TUSK_ROCKSDB_MEMORY_MB", "256");

    // When it is read
    PartitionServiceConfig config = PartitionServiceConfig.from(env);

    // Then each value is used
    assertThat(config.stateDir()).isEqualTo("/tmp/p");
    assertThat(config.rekeyerThreads()).isEqualTo(3);
    assertThat(config.streamThreads()).isEqualTo(2);
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.httpPort()).isZero();
    assertThat(config.completion())
        .isEqualTo(new CompletionSettings(100, 10, Duration.ofMillis(50)));
    assertThat(config.scaling()).isEqualTo(new StreamsScaling(0, true, 256));
    assertThat(PartitionServiceConfig.KEYS).extracting(k -> k.name()).containsAll(env.keySet());
  }

  @Test
  void shouldRefuseStandbyReplicasNamingTheKeyAndWhy() {
    // Given standby replicas asked for
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_STANDBY_REPLICAS", "1");

    // Then the service refuses to start, naming the key and the Kafka Streams limitation
    assertThatThrownBy(() -> PartitionServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_STANDBY_REPLICAS must be 0")
        .hasMessageContaining("pattern-subscribed");
  }

  @Test
  void shouldNameTheKeyWhenAValueIsInvalid() {
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_REKEYER_THREADS", "0");
    assertThatThrownBy(() -> PartitionServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_REKEYER_THREADS");
  }

  @Test
  void shouldRefuseARocksDbBoundBelow16MiBNamingTheKey() {
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_ROCKSDB_MEMORY_MB", "8");
    assertThatThrownBy(() -> PartitionServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_ROCKSDB_MEMORY_MB");
  }

  @Test
  void shouldNameTheKeyWhenARequiredKeyIsMissing() {
    assertThatThrownBy(() -> PartitionServiceConfig.from(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_BOOTSTRAP_SERVERS");
  }
}
