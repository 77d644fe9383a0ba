package io.tusk.commit;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.ServiceKeys;
import io.tusk.common.security.AuthConfig;
import io.tusk.common.security.CommandPolicy;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the commit service, read from the environment: the shared Kafka settings ({@link
 * KafkaSettings#KEYS}), who may call it ({@link AuthConfig#KEYS}) and which commands non-admins'
 * pipelines may run, where the HTTP API listens and where the other instances reach it, how often
 * repo triggers are checked, and where the partition service answers member queries.
 */
public record CommitServiceConfig(
    KafkaSettings kafka,
    String httpHost,
    int httpPort,
    long triggerPollMillis,
    long erasureSweepMillis,
    URI partitionUrl,
    int memberPartitions,
    String advertisedUrl,
    AuthConfig auth,
    CommandPolicy commands,
    NamesPrefix names) {

  public static final ConfigKey HTTP_HOST = ServiceKeys.HTTP_HOST;
  public static final ConfigKey HTTP_PORT = ServiceKeys.httpPort(8080);
  public static final ConfigKey TRIGGER_POLL_MS =
      ConfigKey.optional(
          "TUSK_TRIGGER_POLL_MS",
          "500",
          "How often, in milliseconds, repo triggers are checked (one offsets request for all repos)");

  public static final ConfigKey ERASURE_SWEEP_MS =
      ConfigKey.optional(
          "TUSK_ERASURE_SWEEP_MS",
          "60000",
          "How often, in milliseconds, roll markers are appended to the compacted topics that may"
              + " still hold an erased member, until its compaction bound passed");

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

  public static final ConfigKey ADVERTISED_URL =
      ServiceKeys.advertisedUrl(
          "URL the other commit service instances forward writes to when this one leads,"
              + " http(s)://host:port; default: http(s)://<host name or TUSK_HTTP_HOST>:<port>");

  /** Every key the commit service reads. */
  public static final List<ConfigKey> KEYS =
      ServiceKeys.withKafkaAndAuthKeys(
          HTTP_HOST,
          HTTP_PORT,
          TRIGGER_POLL_MS,
          ERASURE_SWEEP_MS,
          PARTITION_URL,
          MEMBER_PARTITIONS,
          ADVERTISED_URL,
          CommandPolicy.ALLOWED_COMMANDS,
          NamesPrefix.KEY);

  public CommitServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(partitionUrl, "partitionUrl");
    Objects.requireNonNull(advertisedUrl, "advertisedUrl");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(commands, "commands");
    Objects.requireNonNull(names, "names");
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
        config.integer(ERASURE_SWEEP_MS, 100),
        config.httpUrl(PARTITION_URL, false),
        config.string(MEMBER_PARTITIONS).isEmpty() ? 0 : config.integer(MEMBER_PARTITIONS, 1),
        config.string(ADVERTISED_URL).isEmpty()
            ? ""
            : config.httpUrl(ADVERTISED_URL, true).toString(),
        AuthConfig.from(config),
        new CommandPolicy(config.list(CommandPolicy.ALLOWED_COMMANDS)),
        new NamesPrefix(config.string(NamesPrefix.KEY)));
  }
}
