package io.tusk.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void shouldReadEveryUnitAndWriteTheShortestTextBack() {
    assertThat(Durations.parseMillis("30d")).isEqualTo(30L * 86_400_000);
    assertThat(Durations.parseMillis("12h")).isEqualTo(12L * 3_600_000);
    assertThat(Durations.parseMillis("90m")).isEqualTo(90L * 60_000);
    assertThat(Durations.parseMillis(" 45s ")).isEqualTo(45_000);
    assertThat(Durations.parseMillis("500ms")).isEqualTo(500);
    assertThat(Durations.parseMillis("2500")).isEqualTo(2500);
    for (String text : new String[] {"30d", "12h", "90m", "45s", "500ms", "1d", "25h"}) {
      assertThat(Durations.parseMillis(Durations.format(Durations.parseMillis(text))))
          .isEqualTo(Durations.parseMillis(text));
    }
    assertThat(Durations.format(90L * 60_000)).isEqualTo("90m");
    assertThat(Durations.format(86_400_000L)).isEqualTo("1d");
  }

  @Test
  void shouldRefuseAnythingElseNamingTheFormat() {
    for (String bad : new String[] {"", "d", "-5d", "0", "0s", "3w", "1.5h", "30 days", null}) {
      assertThatThrownBy(() -> Durations.parseMillis(bad))
          .as("'%s'", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("30d");
    }
    assertThatThrownBy(() -> Durations.parseMillis("999999999999999d"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("too long");
  }

  @Test
  void shouldReadTopicBoundsAndFailNamingTheKey() {
    Map<String, String> env =
        Map.of(
            "TUSK_BOOTSTRAP_SERVERS", "localhost:9092",
            "TUSK_REGISTRY_URL", "http://localhost:8081",
            "TUSK_COMPACTION_MAX_LAG", "1h",
            "TUSK_SYSTEM_RETENTION", "2d");
    KafkaSettings settings = KafkaSettings.from(Config.load(env, KafkaSettings.KEYS));
    assertThat(settings.bounds())
        .isEqualTo(new TopicBounds(3_600_000, 86_400_000, 2 * 86_400_000L));
    assertThat(settings.bounds().segmentMs()).isEqualTo(3_600_000);
    assertThat(settings.streams("app", "/tmp/x"))
        .containsEntry("topic.max.compaction.lag.ms", "3600000")
        .containsEntry("topic.segment.ms", "3600000")
        .containsEntry("topic.delete.retention.ms", "86400000");

    Map<String, String> bad = new java.util.HashMap<>(env);
    bad.put("TUSK_TOMBSTONE_RETENTION", "a week");
    assertThatThrownBy(() -> KafkaSettings.from(Config.load(bad, KafkaSettings.KEYS)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TUSK_TOMBSTONE_RETENTION");
  }
}
