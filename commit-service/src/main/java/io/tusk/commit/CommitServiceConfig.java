package io.tusk.commit;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the commit service, read from the environment: the shared Kafka settings ({@link
 * KafkaSettings#KEYS}), where the HTTP API listens, how often repo triggers are checked, and where
 * the partition service answers member queries.
 */
public record CommitServiceConfig(
    KafkaSettings kafka,
    String httpHost,
    int httpPort,
    long triggerPollMillis,
    URI partitionUrl,
    int memberPartitions) {

  public static final ConfigKey HTTP_HOST =
      ConfigKey.optional("TUSK_HTTP_HOST", "0.0.0.0", "Address the HTTP API binds to");
  public static final ConfigKey HTTP_PORT =
      ConfigKey.optional("TUSK_HTTP_PORT", "8080", "Port of the HTTP API (0 picks a free port)");
  public static final ConfigKey TRIGGER_POLL_MS =
      ConfigKey.optional(
          "TUSK_TRIGGER_POLL_MS",
          "500",
          "How often, in milliseconds, repo triggers are checked (one offsets request for all repos)");

  public static final ConfigKey PARTITION_URL =
      ConfigKey.optional(
          "TUSK_PARTITION_URL",
          "http://127.0.0.1:8083",
          "Base URL of the partition service's HTTP API; member, time travel and diff queries are"
              + " forwarded to it");

  public static final ConfigKey MEMBER_PARTITIONS =
      ConfigKey.optional(
          "TUSK_MEMBER_PARTITIONS",
          "",
          "Partitions of every repo's member side (<repo>.by-member, <repo>.members). Set it: the"
              + " partition service's state is sized by the first repo's count, so every repo needs the"
              + " same. Unset, each repo chooses (default: its partitions)");

  /** Every key the commit service reads. */
  public static final List<ConfigKey> KEYS = keys();

  public CommitServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(partitionUrl, "partitionUrl");
  }

  /**
   * Reads the configuration from {@code env} (normally {@code System.getenv()}).
   *
   * @throws io.tusk.common.config.ConfigException naming a key that is missing or invalid
   */
  public static CommitServiceConfig from(Map<String, String> env) {
    Config config = Config.load(env, KEYS);
    return new CommitServiceConfig(
        KafkaSettings.from(config),
        config.string(HTTP_HOST),
        config.port(HTTP_PORT),
        config.integer(TRIGGER_POLL_MS, 10),
        httpUrl(config.string(PARTITION_URL)),
        config.string(MEMBER_PARTITIONS).isEmpty() ? 0 : config.integer(MEMBER_PARTITIONS, 1));
  }

  private static URI httpUrl(String value) {
    try {
      URI uri = new URI(value);
      if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // answered below with the rule
    }
    throw new ConfigException(
        PARTITION_URL.name()
            + " must be an http(s) URL such as http://host:8083, got '"
            + value
            + "'");
  }

  private static List<ConfigKey> keys() {
    List<ConfigKey> keys = new ArrayList<>(KafkaSettings.KEYS);
    keys.add(HTTP_HOST);
    keys.add(HTTP_PORT);
    keys.add(TRIGGER_POLL_MS);
    keys.add(PARTITION_URL);
    keys.add(MEMBER_PARTITIONS);
    return List.copyOf(keys);
  }
}
