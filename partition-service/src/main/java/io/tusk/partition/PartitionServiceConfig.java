package io.tusk.partition;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigException;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.ServiceKeys;
import io.tusk.common.config.StreamsScaling;
import io.tusk.common.security.AuthConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the partition service, read from the environment: the shared Kafka keys ({@link
 * KafkaSettings#KEYS}), the auth keys ({@link AuthConfig#KEYS}) plus the keys below.
 *
 * @param kafka how to reach Kafka and the registry
 * @param stateDir Kafka Streams state directory (one per instance)
 * @param rekeyerThreads rekeyer consumer threads of this instance
 * @param streamThreads Kafka Streams threads of this instance
 * @param httpHost address of the health and metrics endpoint
 * @param httpPort port of the health and metrics endpoint (0: any free port)
 * @param completion how the member topology completes commits
 * @param advertisedUrl where the other instances forward member queries of the partitions this one
 *     holds (empty: derived from the host and port)
 * @param scaling standby replicas and static membership
 * @param auth who may call the member queries
 */
public record PartitionServiceConfig(
    KafkaSettings kafka,
    String stateDir,
    int rekeyerThreads,
    int streamThreads,
    String httpHost,
    int httpPort,
    CompletionSettings completion,
    String advertisedUrl,
    StreamsScaling scaling,
    AuthConfig auth) {

  public static final ConfigKey STATE_DIR =
      ServiceKeys.stateDir(
          "state/partition-service", "Kafka Streams state directory; each instance needs its own");
  public static final ConfigKey REKEYER_THREADS =
      ConfigKey.optional(
          "TUSK_REKEYER_THREADS",
          "1",
          "Rekeyer threads (one consumer and one transactional producer each)");
  public static final ConfigKey STREAM_THREADS =
      ServiceKeys.streamThreads("Kafka Streams threads of this instance");
  public static final ConfigKey HTTP_HOST = ServiceKeys.HTTP_HOST;
  public static final ConfigKey HTTP_PORT = ServiceKeys.httpPort(8083);
  public static final ConfigKey SLICE_ROWS =
      ConfigKey.optional(
          "TUSK_COMPLETION_SLICE_ROWS",
          "20000",
          "Most pending rows and reject notices one completion step visits, so no Streams"
              + " transaction outgrows the transaction timeout");
  public static final ConfigKey SLICE_MEMBERS =
      ConfigKey.optional(
          "TUSK_COMPLETION_SLICE_MEMBERS",
          "2000",
          "Most changed members one completion step emits (each emits a member object and a datum"
              + " per job)");
  public static final ConfigKey COMPLETION_INTERVAL_MS =
      ConfigKey.optional(
          "TUSK_COMPLETION_INTERVAL_MS",
          "100",
          "Wall-clock interval at which ready commits are completed without new input");

  public static final ConfigKey ADVERTISED_URL =
      ServiceKeys.advertisedUrl(
          "URL the other partition-service instances forward member, as-of and diff queries to"
              + " when this one holds the member's partition, http(s)://host:port (Kafka Streams"
              + " application.server); default: http(s)://<host name or TUSK_HTTP_HOST>:<port>");

  /** Every key this service reads. */
  public static final List<ConfigKey> KEYS =
      ServiceKeys.withKafkaAndAuthKeys(
          STATE_DIR,
          REKEYER_THREADS,
          STREAM_THREADS,
          HTTP_HOST,
          HTTP_PORT,
          SLICE_ROWS,
          SLICE_MEMBERS,
          COMPLETION_INTERVAL_MS,
          ADVERTISED_URL,
          StreamsScaling.STANDBY_REPLICAS,
          StreamsScaling.STATIC_MEMBERSHIP,
          StreamsScaling.ROCKSDB_MEMORY_MB);

  public PartitionServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(completion, "completion");
    Objects.requireNonNull(advertisedUrl, "advertisedUrl");
    Objects.requireNonNull(scaling, "scaling");
    Objects.requireNonNull(auth, "auth");
  }

  /**
   * Reads the configuration from {@code env}.
   *
   * @throws io.tusk.common.config.ConfigException naming a missing or invalid key
   */
  public static PartitionServiceConfig from(Map<String, String> env) {
    Config config = Config.load(env, KEYS);
    StreamsScaling scaling = StreamsScaling.from(config);
    if (scaling.standbyReplicas() > 0) {
      // Seen in KillRestartIT: a standby of a task that reads a by-member topic (a pattern
      // subscription) is recycled to active without the topics created since it was built, fails
      // with "unknown to the topology" and leaves its RocksDB locked (Kafka Streams: see
      // apache/kafka#12730, which fixes the case without patterns only).
      throw new ConfigException(
          StreamsScaling.STANDBY_REPLICAS.name()
              + " must be 0 for the partition service: Kafka Streams cannot turn a standby of its"
              + " pattern-subscribed tasks into an active task once new repos exist (a moved task"
              + " restores its stores from the changelogs instead)");
    }
    return new PartitionServiceConfig(
        KafkaSettings.from(config),
        config.string(STATE_DIR),
        config.integer(REKEYER_THREADS, 1),
        config.integer(STREAM_THREADS, 1),
        config.string(HTTP_HOST),
        config.port(HTTP_PORT),
        new CompletionSettings(
            config.integer(SLICE_ROWS, 1),
            config.integer(SLICE_MEMBERS, 1),
            Duration.ofMillis(config.integer(COMPLETION_INTERVAL_MS, 1))),
        config.string(ADVERTISED_URL).isEmpty()
            ? ""
            : config.httpUrl(ADVERTISED_URL, true).toString(),
        scaling,
        AuthConfig.from(config));
  }
}
