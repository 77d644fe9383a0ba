package io.tusk.lineage;

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
 * Configuration of the lineage service, read from the environment: the shared {@link KafkaSettings}
 * keys plus the keys below.
 *
 * @param kafka how to reach Kafka and the schema registry
 * @param stateDir where Kafka Streams keeps the index stores (RocksDB)
 * @param httpHost the address the HTTP API binds to
 * @param httpPort the HTTP port; 0 picks a free one
 * @param streamThreads Kafka Streams threads of this instance
 * @param advertisedUrl the URL other instances reach this one at ({@code http://host:port}); empty:
 *     derived from the host name (or the bound address) and the actual port
 * @param openLineage where OpenLineage events go
 */
public record LineageServiceConfig(
    KafkaSettings kafka,
    String stateDir,
    String httpHost,
    int httpPort,
    int streamThreads,
    String advertisedUrl,
    OpenLineageSettings openLineage) {

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
  public static final ConfigKey ADVERTISED_URL =
      ConfigKey.optional(
          "TUSK_ADVERTISED_URL",
          "",
          "URL other lineage-service instances reach this one at, http://host:port (Kafka Streams"
              + " application.server); default: http://<host name>:<HTTP port>");
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
  public static final List<ConfigKey> KEYS = keys();

  public LineageServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(httpHost, "httpHost");
    Objects.requireNonNull(advertisedUrl, "advertisedUrl");
    Objects.requireNonNull(openLineage, "openLineage");
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
      httpUrl(ADVERTISED_URL, advertised, true);
    }
    String openLineageUrl = config.string(OPENLINEAGE_URL);
    if (!openLineageUrl.isEmpty()) {
      httpUrl(OPENLINEAGE_URL, openLineageUrl, false);
    }
    return new LineageServiceConfig(
        kafka,
        config.string(STATE_DIR),
        config.string(HTTP_HOST),
        config.port(HTTP_PORT),
        config.integer(STREAM_THREADS, 1),
        advertised,
        new OpenLineageSettings(
            openLineageUrl,
            config.string(OPENLINEAGE_NAMESPACE),
            config.string(OPENLINEAGE_TOPIC),
            config.integer(OPENLINEAGE_BACKLOG, 1),
            kafka.bootstrapServers()));
  }

  /** Checks that {@code value} is an http(s) URL (with a port when {@code needsPort}). */
  private static URI httpUrl(ConfigKey key, String value, boolean needsPort) {
    try {
      URI uri = new URI(value);
      boolean http = "http".equals(uri.getScheme()) || "https".equals(uri.getScheme());
      if (!http || uri.getHost() == null || (needsPort && uri.getPort() < 0)) {
        throw new ConfigException(
            key.name() + " must be an http URL" + (needsPort ? " with a port" : "") + ": " + value);
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new ConfigException(key.name() + " is not a URL: " + value);
    }
  }

  private static List<ConfigKey> keys() {
    List<ConfigKey> keys = new ArrayList<>(KafkaSettings.KEYS);
    keys.addAll(
        List.of(
            STATE_DIR,
            HTTP_HOST,
            HTTP_PORT,
            STREAM_THREADS,
            ADVERTISED_URL,
            OPENLINEAGE_URL,
            OPENLINEAGE_NAMESPACE,
            OPENLINEAGE_TOPIC,
            OPENLINEAGE_BACKLOG));
    return List.copyOf(keys);
  }
}
