package io.tusk.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.config.ConfigException;
import io.tusk.testfixtures.TestAuth;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

class LineageServiceConfigTest {
  /** The Kafka keys, and the token keys and internal secret (the test key set). */
  private static final Map<String, String> REQUIRED = required();

  private static Map<String, String> required() {
    Map<String, String> env = new HashMap<>(TestAuth.shared().env());
    env.put("TUSK_BOOTSTRAP_SERVERS", "kafka:9092");
    env.put("TUSK_REGISTRY_URL", "http://registry:8081");
    return Map.copyOf(env);
  }

  @Test
  void shouldRefuseToStartNamingTheKeyWhenTheInternalSecretIsMissing() {
    // Given token keys but no internal secret
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.remove("TUSK_INTERNAL_SECRET");

    // When / Then loading fails naming the key
    assertThatThrownBy(() -> LineageServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_INTERNAL_SECRET");
  }

  @Test
  void shouldRefuseToStartNamingTheKeysWhenNoTokenKeysAreConfigured() {
    Map<String, String> env =
        Map.of("TUSK_BOOTSTRAP_SERVERS", "kafka:9092", "TUSK_REGISTRY_URL", "http://registry:8081");
    assertThatThrownBy(() -> LineageServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_AUTH_JWKS_URL")
        .hasMessageContaining("TUSK_AUTH_JWKS_FILE");
  }

  @Test
  void shouldUseDefaultsWhenOnlyRequiredKeysAreSet() {
    // Given only the required keys

    // When the config is read
    LineageServiceConfig config = LineageServiceConfig.from(REQUIRED);

    // Then every other key has its documented default
    assertThat(config.stateDir()).isEqualTo("state/lineage-service");
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.httpPort()).isEqualTo(8082);
    assertThat(config.internalPort()).isZero();
    assertThat(config.auth().enabled()).isTrue();
    assertThat(config.streamThreads()).isEqualTo(1);
    assertThat(config.kafka().bootstrapServers()).isEqualTo("kafka:9092");
    assertThat(LineageServiceConfig.KEYS)
        .extracting(key -> key.name())
        .contains("TUSK_BOOTSTRAP_SERVERS", "TUSK_STATE_DIR", "TUSK_HTTP_PORT");
  }

  @Test
  void shouldFailNamingTheKeyWhenPortIsInvalid() {
    // Given a port out of range
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_HTTP_PORT", "70000");

    // When / Then reading fails naming the key
    assertThatThrownBy(() -> LineageServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_HTTP_PORT");
  }

  @Test
  void shouldFailNamingTheKeyWhenBootstrapServersAreMissing() {
    // Given no bootstrap servers
    Map<String, String> env = Map.of("TUSK_REGISTRY_URL", "http://registry:8081");

    // When / Then reading fails naming the key
    assertThatThrownBy(() -> LineageServiceConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_BOOTSTRAP_SERVERS");
  }

  @Test
  void shouldRunAtLeastOnceWithFastPatternDiscoveryWhenStreamsPropertiesAreBuilt() {
    // Given a config with two stream threads
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_STREAM_THREADS", "2");

    // When the Kafka Streams properties are built
    Properties props =
        LineageService.streamsProperties(
            LineageServiceConfig.from(env), new HostInfo("lineage-1", 8082));

    // Then the indexes run at-least-once under the literal application ID
    assertThat(props.get(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("tusk-lineage");
    assertThat(props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))
        .isEqualTo(StreamsConfig.AT_LEAST_ONCE);
    assertThat(props.get(StreamsConfig.NUM_STREAM_THREADS_CONFIG)).isEqualTo(2);
    assertThat(props.get(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG)))
        .isEqualTo(2000);
    // And only committed records are indexed (outputs are written in transactions)
    assertThat(props.get(StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG)))
        .isEqualTo("read_committed");
    // And other instances forward reads to this one's address
    assertThat(props.get(StreamsConfig.APPLICATION_SERVER_CONFIG)).isEqualTo("lineage-1:8082");
  }

  @Test
  void shouldKeepStandbysAndJoinAsAStaticMemberWhenAsked() {
    // Given one standby replica and static membership under the instance ID
    Map<String, String> env = new HashMap<>(REQUIRED);
    env.put("TUSK_STANDBY_REPLICAS", "1");
    env.put("TUSK_STATIC_MEMBERSHIP", "true");
    env.put("TUSK_INSTANCE_ID", "lineage-0");

    // When the Kafka Streams properties are built
    Properties props =
        LineageService.streamsProperties(
            LineageServiceConfig.from(env), new HostInfo("lineage-0", 8082));

    // Then Kafka Streams keeps a standby of each task, and the main consumer is a static member
    // named by the instance (Kafka Streams adds each thread's index)
    assertThat(props.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG)).isEqualTo(1);
    assertThat(props.get(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)))
        .isEqualTo("lineage-0");
    assertThat(new StreamsConfig(props).getMainConsumerConfigs("tusk-lineage", "c", 1))
        .containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "lineage-0-1");
  }

  @Test
  void shouldJoinAsADynamicMemberWithoutStandbysByDefault() {
    Properties props =
        LineageService.streamsProperties(
            LineageServiceConfig.from(REQUIRED), new HostInfo("lineage-0", 8082));
    assertThat(props.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG)).isEqualTo(0);
    assertThat(new StreamsConfig(props).getMainConsumerConfigs("tusk-lineage", "c", 1))
        .doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
  }

  @Test
  void shouldAdvertiseConfiguredUrlOrBoundAddressWithActualPort() {
    // Given one config with an advertised URL and one bound to loopback without
    Map<String, String> advertised = new HashMap<>(REQUIRED);
    advertised.put("TUSK_ADVERTISED_URL", "http://lineage-2:9000");
    Map<String, String> loopback = new HashMap<>(REQUIRED);
    loopback.put("TUSK_HTTP_HOST", "127.0.0.1");
    loopback.put("TUSK_HTTP_PORT", "0");

    // When the advertised URLs are derived / Then the configured one wins, else host and port
    assertThat(LineageService.advertisedUrl(LineageServiceConfig.from(advertised), 8082))
        .isEqualTo("http://lineage-2:9000");
    assertThat(LineageService.advertisedUrl(LineageServiceConfig.from(loopback), 41234))
        .isEqualTo("http://127.0.0.1:41234");
  }

  @Test
  void shouldFailNamingTheKeyWhenUrlsAreInvalid() {
    // Given an advertised URL without port and an OpenLineage URL that is not http
    Map<String, String> noPort = new HashMap<>(REQUIRED);
    noPort.put("TUSK_ADVERTISED_URL", "http://lineage-2");
    Map<String, String> notHttp = new HashMap<>(REQUIRED);
    notHttp.put("TUSK_OPENLINEAGE_URL", "ftp://marquez");

    // When / Then reading fails naming the key
    assertThatThrownBy(() -> LineageServiceConfig.from(noPort))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_ADVERTISED_URL");
    assertThatThrownBy(() -> LineageServiceConfig.from(notHttp))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_OPENLINEAGE_URL");
  }
}
