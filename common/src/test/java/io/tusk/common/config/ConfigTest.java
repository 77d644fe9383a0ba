package io.tusk.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {
  private static final ConfigKey THREADS =
      ConfigKey.optional("TUSK_THREADS", "2", "worker threads");

  @Test
  void shouldFailNamingEveryMissingRequiredKey() {
    assertThatThrownBy(() -> Config.load(Map.of(), KafkaSettings.KEYS))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_BOOTSTRAP_SERVERS")
        .hasMessageContaining("TUSK_REGISTRY_URL");
  }

  @Test
  void shouldApplyDefaultsAndParseNumbers() {
    Config config = Config.load(Map.of(), List.of(THREADS));
    assertThat(config.integer(THREADS, 1)).isEqualTo(2);
  }

  @Test
  void shouldNameKeyWhoseValueDoesNotParse() {
    Config config = Config.load(Map.of("TUSK_THREADS", "many"), List.of(THREADS));
    assertThatThrownBy(() -> config.integer(THREADS)).hasMessageContaining("TUSK_THREADS");
  }

  @Test
  void shouldPassKafkaClientPropertiesThrough() {
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "b:9092",
            "TUSK_REGISTRY_URL", "http://r",
            "TUSK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
    KafkaSettings settings = KafkaSettings.from(Config.load(env, KafkaSettings.KEYS));
    assertThat(settings.producer("p", null)).containsEntry("security.protocol", "SASL_SSL");
    assertThat(settings.instanceId()).isNotBlank();
  }
}
