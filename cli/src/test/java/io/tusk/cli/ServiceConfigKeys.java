package io.tusk.cli;

import io.tusk.commit.CommitServiceConfig;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import io.tusk.lineage.LineageServiceConfig;
import io.tusk.partition.PartitionServiceConfig;
import io.tusk.processor.DatumProcessorConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The configuration keys each Tusk service reads, by service name, for the tests that check
 * deployment files (compose.yaml, the Helm chart) against the config classes.
 */
final class ServiceConfigKeys {
  /** Service name to the keys its config class declares. */
  static final Map<String, List<ConfigKey>> SERVICES =
      Map.of(
          "commit-service", CommitServiceConfig.KEYS,
          "partition-service", PartitionServiceConfig.KEYS,
          "datum-processor", DatumProcessorConfig.KEYS,
          "lineage-service", LineageServiceConfig.KEYS);

  private ServiceConfigKeys() {}

  /** The names of the keys {@code service} reads. */
  static Set<String> names(String service) {
    return SERVICES.get(service).stream().map(ConfigKey::name).collect(Collectors.toSet());
  }

  /** Whether {@code service} reads {@code key}: a declared key, or a Kafka client property. */
  static boolean reads(String service, String key) {
    return names(service).contains(key) || key.startsWith(KafkaSettings.CLIENT_PROPERTY_PREFIX);
  }

  /** The keys {@code service} cannot start without. */
  static List<String> required(String service) {
    return SERVICES.get(service).stream()
        .filter(ConfigKey::isRequired)
        .map(ConfigKey::name)
        .toList();
  }
}
