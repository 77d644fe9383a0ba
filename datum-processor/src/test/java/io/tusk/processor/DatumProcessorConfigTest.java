package io.tusk.processor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.config.ConfigException;
import io.tusk.testfixtures.TestAuth;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatumProcessorConfigTest {
  private static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>(TestAuth.shared().env());
    env.put("TUSK_BOOTSTRAP_SERVERS", "localhost:9092");
    env.put("TUSK_REGISTRY_URL", "http://localhost:8081");
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  void shouldApplyDefaultsWhenOnlyThePipelineIsGiven() {
    // Given the shared settings and a pipeline
    Map<String, String> env = env("TUSK_PIPELINE", "gibleed", "TUSK_INSTANCE_ID", "p1");

    // When the config is read
    DatumProcessorConfig config = DatumProcessorConfig.from(env);

    // Then the documented defaults apply
    assertThat(config.pipeline()).isEqualTo("gibleed");
    assertThat(config.threads()).isEqualTo(1);
    assertThat(config.httpHost()).isEqualTo("127.0.0.1");
    assertThat(config.auth().enabled()).isTrue();
    assertThat(config.httpPort()).isEqualTo(8084);
    assertThat(config.maxPollRecords()).isEqualTo(500);
    assertThat(config.pipelineWait()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.groupId()).isEqualTo("tusk-processor-gibleed");
    assertThat(config.kafka().instanceId()).isEqualTo("p1");
  }

  @Test
  void shouldFailNamingThePipelineKeyWhenItIsMissing() {
    // Given no pipeline
    Map<String, String> env = env();

    // When / Then reading fails naming the key
    assertThatThrownBy(() -> DatumProcessorConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_PIPELINE");
  }

  @Test
  void shouldFailWhenThePipelineNameCannotBeATopicPrefix() {
    // Given a pipeline name with a dot
    Map<String, String> env = env("TUSK_PIPELINE", "gi.bleed");

    // When / Then reading fails naming the key
    assertThatThrownBy(() -> DatumProcessorConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_PIPELINE");
  }

  @Test
  void shouldFailNamingTheKeyWhenThreadsIsNotPositive() {
    // Given zero threads
    Map<String, String> env = env("TUSK_PIPELINE", "p", "TUSK_PROCESSOR_THREADS", "0");

    // When / Then reading fails naming the key
    assertThatThrownBy(() -> DatumProcessorConfig.from(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_PROCESSOR_THREADS");
  }

  @Test
  void shouldListEveryKeyItReadsWhenAskedForKeys() {
    // Given / When the declared keys
    var names = DatumProcessorConfig.KEYS.stream().map(k -> k.name()).toList();

    // Then they include the shared Kafka keys and the processor's own
    assertThat(names)
        .contains(
            "TUSK_BOOTSTRAP_SERVERS",
            "TUSK_INSTANCE_ID",
            "TUSK_PIPELINE",
            "TUSK_PROCESSOR_THREADS",
            "TUSK_HTTP_HOST",
            "TUSK_HTTP_PORT",
            "TUSK_MAX_POLL_RECORDS",
            "TUSK_PIPELINE_WAIT_SECONDS");
  }
}
