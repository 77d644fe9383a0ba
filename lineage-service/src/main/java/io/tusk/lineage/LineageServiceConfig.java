package io.tusk.lineage;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the lineage service, read from the environment: the shared {@link KafkaSettings}
 * keys plus the keys below.
 *
 * @param kafka how to reach Kafka and the schema registry
 * @param stateDir where Kafka Streams keeps the index stores (RocksDB)
 * @param httpHost the address the HTTP API binds to
 * @param httpPort the HTTP port; 0 picks a free one
 * @param streamThreads Kafka Streams threads of this instance
 */
public record LineageServiceConfig(
    KafkaSettings kafka, String stateDir, String httpHost, int httpPort, int streamThreads) {

  public static final ConfigKey STATE_DIR =
      ConfigKey.optional(
          "TUSK_STATE_DIR",
          "state/lineage-service",
          "Directory of the index stores; keep it across restarts to avoid restoring them from Kafka");
  public static final ConfigKey HTTP_HOST =
      ConfigKey.optional("TUSK_HTTP_HOST", "0.0.0.0", "Address the HTTP API binds to");
  public static final ConfigKey HTTP_PORT =
      ConfigKey.optional("TUSK_HTTP_PORT", "8082", "Port of the HTTP API (0 picks a free port)");
  public static final ConfigKey STREAM_THREADS =
      ConfigKey.optional(
          "TUSK_STREAM_THREADS", "1", "Kafka Streams threads that maintain the indexes");

  /** Every key the service reads. */
  public static final List<ConfigKey> KEYS = keys();

  public LineageServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(httpHost, "httpHost");
  }

  /**
   * Reads the configuration from {@code env} (normally {@code System.getenv()}).
   *
   * @throws io.tusk.common.config.ConfigException naming a key that is missing or invalid
   */
  public static LineageServiceConfig from(Map<String, String> env) {
    Config config = Config.load(env, KEYS);
    return new LineageServiceConfig(
        KafkaSettings.from(config),
        config.string(STATE_DIR),
        config.string(HTTP_HOST),
        config.port(HTTP_PORT),
        config.integer(STREAM_THREADS, 1));
  }

  private static List<ConfigKey> keys() {
    List<ConfigKey> keys = new ArrayList<>(KafkaSettings.KEYS);
    keys.addAll(List.of(STATE_DIR, HTTP_HOST, HTTP_PORT, STREAM_THREADS));
    return List.copyOf(keys);
  }
}
