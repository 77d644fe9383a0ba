package io.tusk.common.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** A secured cluster's settings reach every Kafka client a service makes. */
class KafkaSettingsTest {
  private static final String JAAS =
      "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\""
          + " password=\"p\";";

  private static final Map<String, String> SECURED =
      Map.of(
          "TUSK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
          "TUSK_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
          "TUSK_KAFKA_SASL_JAAS_CONFIG", JAAS,
          "TUSK_KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/tusk/truststore.p12");

  private static KafkaSettings secured() {
    Map<String, String> env = new HashMap<>(SECURED);
    env.put("TUSK_BOOTSTRAP_SERVERS", "b:9093");
    env.put("TUSK_REGISTRY_URL", "http://r");
    return KafkaSettings.from(Config.load(env, KafkaSettings.KEYS));
  }

  @Test
  void shouldGiveTheSecuritySettingsToProducersConsumersAndAdminClients() {
    KafkaSettings settings = secured();
    for (Map<String, Object> client :
        List.of(
            settings.producer("p", null),
            settings.producer("t", "t"),
            settings.consumer("c", null),
            settings.consumer("g", "g"),
            settings.admin("a"))) {
      assertThat(client)
          .containsEntry("security.protocol", "SASL_SSL")
          .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
          .containsEntry("sasl.jaas.config", JAAS)
          .containsEntry("ssl.truststore.location", "/etc/tusk/truststore.p12");
    }
  }

  @Test
  void shouldGiveTheSecuritySettingsToEveryClientOfAKafkaStreamsApplication() {
    // Given a Kafka Streams application configured from the settings
    StreamsConfig streams = new StreamsConfig(secured().streams("tusk-test", "/tmp/state"));

    // Then its main, restore and global consumers, its producers and its admin client log in
    for (Map<String, Object> client :
        List.of(
            streams.getMainConsumerConfigs("tusk-test", "c", 0),
            streams.getRestoreConsumerConfigs("r"),
            streams.getGlobalConsumerConfigs("g"),
            streams.getProducerConfigs("p"),
            streams.getAdminConfigs("a"))) {
      assertThat(client).containsEntry("security.protocol", "SASL_SSL");
      assertThat(client).containsEntry("sasl.mechanism", "SCRAM-SHA-512");
      assertThat(String.valueOf(value(client.get("sasl.jaas.config")))).isEqualTo(JAAS);
    }
  }

  @Test
  void shouldCompressTheBatchesOfEveryProducerUnlessOverridden() {
    // Given a Kafka Streams application configured from the default settings
    StreamsConfig streams = new StreamsConfig(secured().streams("tusk-test", "/tmp/state"));

    // Then its producer (changelogs, repartition topics, sinks) and the services' plain producers
    // compress with zstd, loaders with LZ4
    assertThat(streams.getProducerConfigs("p")).containsEntry("compression.type", "zstd");
    assertThat(secured().producer("p", null)).containsEntry("compression.type", "zstd");
    assertThat(secured().loader("p")).containsEntry("compression.type", "lz4");

    // And an operator's TUSK_KAFKA_COMPRESSION_TYPE wins for each
    Map<String, String> env = new HashMap<>(SECURED);
    env.put("TUSK_BOOTSTRAP_SERVERS", "b:9093");
    env.put("TUSK_REGISTRY_URL", "http://r");
    env.put("TUSK_KAFKA_COMPRESSION_TYPE", "gzip");
    KafkaSettings gzip = KafkaSettings.from(Config.load(env, KafkaSettings.KEYS));
    assertThat(new StreamsConfig(gzip.streams("tusk-test", "/tmp/state")).getProducerConfigs("p"))
        .containsEntry("compression.type", "gzip");
    assertThat(gzip.producer("p", null)).containsEntry("compression.type", "gzip");
    assertThat(gzip.loader("p")).containsEntry("compression.type", "gzip");
  }

  @Test
  void shouldAddTheEnvironmentsClientSettingsToSettingsMadeFromAnAddress() {
    // Given settings a command makes from its --bootstrap option
    KafkaSettings settings =
        KafkaSettings.of("b:9093", "", "tusk-put").withClientSettingsFrom(SECURED);

    // Then its producer logs in as the environment says, other variables ignored
    assertThat(settings.producer("tusk-put-r", null))
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.jaas.config", JAAS);
    assertThat(
            KafkaSettings.of("b:9092", "", "x")
                .withClientSettingsFrom(Map.of("HOME", "/root"))
                .clientOverrides())
        .isEmpty();
  }

  private static Object value(Object configValue) {
    return configValue instanceof Password password ? password.value() : configValue;
  }

  @Test
  void shouldBoundTheStreamsChangelogsByTheClusterCompactionBounds() {
    KafkaSettings settings =
        KafkaSettings.of("b:9092", "http://r", "i1")
            .withBounds(new TopicBounds(3_600_000L, 60_000L, 86_400_000L));

    Map<String, Object> props = settings.streams("app", "/tmp/state");

    assertThat(props)
        .containsEntry(StreamsConfig.topicPrefix("max.compaction.lag.ms"), "3600000")
        .containsEntry(StreamsConfig.topicPrefix("segment.ms"), "3600000")
        .containsEntry(StreamsConfig.topicPrefix("delete.retention.ms"), "60000");
  }

  @Test
  void shouldHeartbeatGroupConsumersOftenSoRebalancesMovePartitionsQuickly() {
    // Given a consumer in a group and one outside any
    Map<String, Object> member = secured().consumer("c", "g");
    Map<String, Object> alone = secured().consumer("c", null);

    // Then the group member heartbeats every 500 ms, well inside the session timeout
    assertThat(member).containsEntry("heartbeat.interval.ms", 500);
    assertThat(new ConsumerConfig(member).getInt("session.timeout.ms")).isGreaterThan(3 * 500);
    assertThat(alone).doesNotContainKey("heartbeat.interval.ms");
  }

  @Test
  void shouldNotIdleTasksWaitingForEmptyInputPartitions() {
    // Given a Kafka Streams application configured from the default settings
    StreamsConfig streams = new StreamsConfig(secured().streams("tusk-test", "/tmp/state"));

    // Then its tasks process what is buffered without waiting for (or checking) empty partitions
    assertThat(streams.getLong(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG))
        .isEqualTo(StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
  }

  @Test
  void shouldKeepSegmentsNoLongerThanTheMaxCompactionLag() {
    assertThat(new TopicBounds(5_000L, 1_000L, 1_000L).segmentMs()).isEqualTo(5_000L);
    assertThat(TopicBounds.DEFAULTS.segmentMs()).isEqualTo(7 * 86_400_000L);
    assertThat(new TopicBounds(30 * 86_400_000L, 1_000L, 1_000L).segmentMs())
        .isEqualTo(7 * 86_400_000L);
  }
}
