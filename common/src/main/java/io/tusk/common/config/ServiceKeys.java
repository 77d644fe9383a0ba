package io.tusk.common.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The keys several services read besides {@link KafkaSettings#KEYS}, made in one place so their
 * names, defaults and meaning agree: where a service's HTTP server listens and, for the Kafka
 * Streams services, their state directory and stream threads. Each service's config record lists
 * these with its own keys in its {@code KEYS} ({@link #withKafkaKeys}).
 */
public final class ServiceKeys {
  private ServiceKeys() {}

  /** Address of the service's HTTP server (every service has one: its API or /health, /metrics). */
  public static final ConfigKey HTTP_HOST =
      ConfigKey.optional(
          "TUSK_HTTP_HOST",
          "127.0.0.1",
          "Address the service's HTTP server (its API, /health and /metrics) binds to; loopback"
              + " unless set (a cluster deployment sets 0.0.0.0 or the host's address)");

  /** Port of the service's HTTP server: {@code defaultPort} unless set, 0 picks a free port. */
  public static ConfigKey httpPort(int defaultPort) {
    return ConfigKey.optional(
        "TUSK_HTTP_PORT",
        Integer.toString(defaultPort),
        "Port of the service's HTTP server (0 picks a free port)");
  }

  /**
   * The URL other instances of a service reach this one at (empty: derived from the host name and
   * port, see {@link io.tusk.common.http.HttpServers#advertisedUrl}).
   *
   * @param doc what the other instances call there
   */
  public static ConfigKey advertisedUrl(String doc) {
    return ConfigKey.optional("TUSK_ADVERTISED_URL", "", doc);
  }

  /**
   * The Kafka Streams state directory of a service, {@code defaultDir} unless set.
   *
   * @param doc what the directory holds, for an operator deciding where to keep it
   */
  public static ConfigKey stateDir(String defaultDir, String doc) {
    return ConfigKey.optional("TUSK_STATE_DIR", defaultDir, doc);
  }

  /**
   * Kafka Streams threads of one instance of a service (1 unless set).
   *
   * @param doc what the threads do in this service
   */
  public static ConfigKey streamThreads(String doc) {
    return ConfigKey.optional("TUSK_STREAM_THREADS", "1", doc);
  }

  /**
   * Every key a service with an HTTP API reads: the shared {@link KafkaSettings#KEYS}, the auth
   * keys ({@link io.tusk.common.security.AuthConfig#KEYS}), then its own, in order.
   */
  public static List<ConfigKey> withKafkaAndAuthKeys(ConfigKey... serviceKeys) {
    List<ConfigKey> keys = new ArrayList<>(KafkaSettings.KEYS);
    keys.addAll(io.tusk.common.security.AuthConfig.KEYS);
    keys.addAll(List.of(serviceKeys));
    return List.copyOf(keys);
  }

  /** Every key a service reads: the shared {@link KafkaSettings#KEYS}, then its own, in order. */
  public static List<ConfigKey> withKafkaKeys(ConfigKey... serviceKeys) {
    List<ConfigKey> keys = new ArrayList<>(KafkaSettings.KEYS);
    keys.addAll(List.of(serviceKeys));
    return List.copyOf(keys);
  }
}
