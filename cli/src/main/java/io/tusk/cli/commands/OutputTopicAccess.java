package io.tusk.cli.commands;

import io.tusk.cli.local.Ports;
import io.tusk.common.config.KafkaSettings;
import picocli.CommandLine.Option;

/**
 * The options of commands that read a pipeline's output topic straight from Kafka ({@code tusk
 * sink}, {@code tusk export}): where Kafka and the schema registry are. The caller's Kafka
 * credentials come from {@code TUSK_KAFKA_*}, as for the services.
 */
public final class OutputTopicAccess {
  @Option(
      names = "--bootstrap",
      description =
          "Kafka bootstrap servers (default: env TUSK_BOOTSTRAP_SERVERS, else the current"
              + " context's, else the local stack's).")
  String bootstrap;

  @Option(
      names = "--registry-url",
      description =
          "The schema registry (default: env TUSK_REGISTRY_URL, else the local stack's"
              + " http://127.0.0.1:8081).")
  String registryUrl;

  /**
   * Kafka client settings for {@code clientId}, with the caller's {@code TUSK_KAFKA_*} settings.
   */
  KafkaSettings settings(Api api, String clientId) {
    return KafkaSettings.of(api.connection(bootstrap).bootstrapServers(), registry(), clientId)
        .withClientSettingsFrom(System.getenv());
  }

  private String registry() {
    if (registryUrl != null) {
      return registryUrl;
    }
    String env = System.getenv("TUSK_REGISTRY_URL");
    return env != null && !env.isBlank() ? env : "http://127.0.0.1:" + Ports.defaults().registry();
  }
}
