package io.tusk.lineage;

import io.tusk.common.config.Config;
import io.tusk.common.config.ConfigKey;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.config.ServiceKeys;
import io.tusk.common.config.StreamsScaling;
import io.tusk.common.security.AuthConfig;
import java.net.URI;
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
 * @param internalPort the port of the internal listener other instances read this one's stores on;
 *     0 picks a free one
 * @param advertisedUrl the URL other instances reach this one's internal listener at ({@code
 *     http://host:port}); empty: derived from the host name (or the bound address) and the internal
 *     listener's actual port
 * @param commitUrl the commit service the console's commit calls are forwarded to, or null
 * @param openLineage where OpenLineage events go
 * @param scaling standby replicas and static membership
 * @param auth who may call the HTTP API, and the internal listener's secret
 */
public record LineageServiceConfig(
    KafkaSettings kafka,
    String stateDir,
    String httpHost,
    int httpPort,
    int streamThreads,
    int internalPort,
    String advertisedUrl,
    URI commitUrl,
    OpenLineageSettings openLineage,
    StreamsScaling scaling,
    AuthConfig auth) {

  public static final ConfigKey STATE_DIR =
      ServiceKeys.stateDir(
          "state/lineage-service",
          "Directory of the index stores; keep it across restarts to avoid restoring them from Kafka");
  public static final ConfigKey HTTP_HOST = ServiceKeys.HTTP_HOST;
  public static final ConfigKey HTTP_PORT = ServiceKeys.httpPort(8082);
  public static final ConfigKey STREAM_THREADS =
      ServiceKeys.streamThreads("Kafka Streams threads that maintain the indexes");
  public static final ConfigKey INTERNAL_PORT =
      ConfigKey.optional(
          "TUSK_INTERNAL_PORT",
          "0",
          "Port of the internal listener, where other lineage-service instances read this one's"
              + " stores (with TUSK_INTERNAL_SECRET); 0 picks a free one, advertised as"
              + " application.server");
  public static final ConfigKey ADVERTISED_URL =
      ServiceKeys.advertisedUrl(
          "URL other lineage-service instances reach this one's internal listener at,"
              + " http://host:port (Kafka Streams application.server); default: http://<host"
              + " name>:<internal port>");
  public static final ConfigKey COMMIT_URL =
      ConfigKey.optional(
          "TUSK_COMMIT_URL",
          "",
          "Base URL of the commit service; the console's diffs, rejected rows, members as of a"
              + " commit and job restarts are forwarded there with the caller's token (empty: those"
              + " routes answer 503 not_configured)");
  public static final ConfigKey OPENLINEAGE_URL =
      ConfigKey.optional(
          "TUSK_OPENLINEAGE_URL",
          "",
          "Base URL of an OpenLineage HTTP endpoint (events are POSTed to <url>/api/v1/lineage, as"
              + " Marquez accepts); empty: not sent over HTTP");
  public static final ConfigKey OPENLINEAGE_NAMESPACE =
      ConfigKey.optional(
          "TUSK_OPENLINEAGE_NAMESPACE", "tusk", "OpenLineage job namespace of Tusk's pipelines");
  public static final ConfigKey OPENLINEAGE_TOPIC =
      ConfigKey.optional(
          "TUSK_OPENLINEAGE_TOPIC",
          "",
          "Kafka topic OpenLineage events are also written to (key: run ID); empty: none");
  public static final ConfigKey OPENLINEAGE_BACKLOG =
      ConfigKey.optional(
          "TUSK_OPENLINEAGE_BACKLOG",
          "10000",
          "Most OpenLineage events waiting in memory for the endpoint; more wait in the store");

  /** Every key the service reads. */
  public static final List<ConfigKey> KEYS =
      ServiceKeys.withKafkaAndAuthKeys(
          STATE_DIR,
          HTTP_HOST,
          HTTP_PORT,
          STREAM_THREADS,
          INTERNAL_PORT,
          ADVERTISED_URL,
          COMMIT_URL,
          OPENLINEAGE_URL,
          OPENLINEAGE_NAMESPACE,
          OPENLINEAGE_TOPIC,
          OPENLINEAGE_BACKLOG,
          StreamsScaling.STANDBY_REPLICAS,
          StreamsScaling.STATIC_MEMBERSHIP,
          StreamsScaling.ROCKSDB_MEMORY_MB);

  public LineageServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(advertisedUrl, "advertisedUrl");
    Objects.requireNonNull(openLineage, "openLineage");
    Objects.requireNonNull(scaling, "scaling");
    Objects.requireNonNull(auth, "auth");
  }

  /**
   * Reads the configuration from {@code env} (normally {@code System.getenv()}).
   *
   * @throws io.tusk.common.config.ConfigException naming a key that is missing or invalid
   */
  public static LineageServiceConfig from(Map<String, String> env) {
    Config config = Config.load(env, KEYS);
    KafkaSettings kafka = KafkaSettings.from(config);
    String advertised = config.string(ADVERTISED_URL);
    if (!advertised.isEmpty()) {
      config.httpUrl(ADVERTISED_URL, true);
    }
    AuthConfig auth = AuthConfig.from(config);
    // Instances read each other's stores on the internal listener, which wants the secret.
    auth.requireInternalSecret();
    URI commitUrl = config.string(COMMIT_URL).isEmpty() ? null : config.httpUrl(COMMIT_URL, false);
    String openLineageUrl = config.string(OPENLINEAGE_URL);
    if (!openLineageUrl.isEmpty()) {
      config.httpUrl(OPENLINEAGE_URL, false);
    }
    return new LineageServiceConfig(
        kafka,
        config.string(STATE_DIR),
        config.string(HTTP_HOST),
        config.port(HTTP_PORT),
        config.integer(STREAM_THREADS, 1),
        config.port(INTERNAL_PORT),
        advertised,
        commitUrl,
        new OpenLineageSettings(
            openLineageUrl,
            config.string(OPENLINEAGE_NAMESPACE),
            config.string(OPENLINEAGE_TOPIC),
            config.integer(OPENLINEAGE_BACKLOG, 1),
            kafka.bootstrapServers()),
        StreamsScaling.from(config),
        auth);
  }
}
