package io.tusk.lineage;

import io.micrometer.core.instrument.FunctionCounter;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.http.HttpServers;
import io.tusk.common.http.ServiceProxy;
import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.ops.Observability;
import io.tusk.common.security.SecuredRouter;
import io.tusk.common.security.Security;
import io.tusk.common.service.Lifecycle;
import io.tusk.common.service.Service;
import io.tusk.common.service.ServiceRunner;
import io.tusk.common.service.StreamsApps;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lineage service: a Kafka Streams application that indexes Tusk's commits, jobs, datum results
 * and pipeline outputs in state stores ({@link LineageTopology}), and an HTTP API ({@link
 * LineageApi}) that answers lineage queries from them, with the web page at {@code /} and {@code
 * /health} and {@code /metrics} on the same port.
 *
 * <p>It only reads Tusk's topics: {@code tusk.commits}, {@code tusk.jobs}, {@code
 * tusk.datum-results}, {@code tusk.repos}, {@code tusk.pipelines} and every {@code
 * <pipeline>.output} (by pattern, so pipelines created later are picked up within seconds). Several
 * instances share the indexes: each answers every query, reading the partitions other instances own
 * from them ({@link StreamsStoreLocator}) on their internal listener (a port of its own, behind the
 * shared secret; the public port answers 404 for {@code /internal/*}). Every query needs a bearer
 * token ({@link LineageApi}: the roles each route needs). Kafka Streams threads that keep failing
 * stop the indexes, turn {@code /health} DOWN and end the process ({@link StreamsApps}).
 */
public final class LineageService implements Service {
  private static final Logger log = LoggerFactory.getLogger(LineageService.class);

  /** The Kafka Streams application ID (consumer group, internal topic prefix). */
  public static final String APPLICATION_ID = "tusk-lineage";

  /** Partitions of the outputs repartition topics when no deployment setting is given (tests). */
  static final int DEFAULT_OUTPUT_PARTITIONS = 6;

  /** The service's name in logs, and in the README's table of Kafka ACLs. */
  public static final String SERVICE_NAME = "lineage-service";

  private static final String STREAMS_NAME = "lineage-streams";
  private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(60);

  private final Lifecycle lifecycle;
  private final HttpServer server;
  private final HttpServer internal;
  private final String advertisedUrl;
  private final SecuredRouter routes;

  private LineageService(
      Lifecycle lifecycle,
      HttpServer server,
      HttpServer internal,
      String advertised,
      SecuredRouter routes) {
    this.lifecycle = lifecycle;
    this.server = server;
    this.internal = internal;
    this.advertisedUrl = advertised;
    this.routes = routes;
  }

  /** Runs the service until the JVM is asked to stop. */
  public static void main(String[] args) {
    ServiceRunner.run(
        SERVICE_NAME, () -> LineageService.start(LineageServiceConfig.from(System.getenv())));
  }

  /**
   * Creates the system topics if needed, reads the repos and pipelines, serves HTTP (503 until the
   * indexes are queryable), then starts the indexes and waits until Kafka Streams is RUNNING (at
   * most 120 s).
   *
   * @throws IllegalStateException if Kafka Streams does not reach RUNNING in time or the HTTP
   *     server cannot listen (in time)
   */
  public static LineageService start(LineageServiceConfig config) {
    Objects.requireNonNull(config, "config");
    KafkaSettings kafka = config.kafka();
    try (TopicAdmin admin = new TopicAdmin(kafka)) {
      admin.ensureSystemTopics();
    } catch (RuntimeException e) {
      throw AccessDenied.explained(SERVICE_NAME, e);
    }
    Topics topics = new Topics(kafka.registryClient());
    // Closed in reverse order: HTTP first, so no query reaches a closing store.
    Lifecycle lifecycle = new Lifecycle(SERVICE_NAME);
    try {
      Observability observability = lifecycle.open(new Observability(SERVICE_NAME));
      CompactedTopicView<RepoSpec> repos =
          lifecycle.open(CompactedTopicView.start(kafka, topics.repos, VIEW_TIMEOUT));
      CompactedTopicView<PipelineSpec> pipelines =
          lifecycle.open(CompactedTopicView.start(kafka, topics.pipelines, VIEW_TIMEOUT));
      observability.addHealthCheck("repos-view", repos::isHealthy);
      observability.addHealthCheck("pipelines-view", pipelines::isHealthy);
      Catalog catalog =
          new Catalog() {
            @Override
            public Map<String, RepoSpec> repos() {
              return repos.snapshot();
            }

            @Override
            public Map<String, PipelineSpec> pipelines() {
              return pipelines.snapshot();
            }
          };
      KafkaRowReader rows = lifecycle.open(new KafkaRowReader(kafka));

      Vertx vertx = Vertx.vertx();
      lifecycle.open(() -> Lifecycle.await(vertx.close(), "closing Vert.x"));
      Security security =
          lifecycle.open(
              Security.start(
                  SERVICE_NAME,
                  config.auth(),
                  vertx,
                  kafka,
                  topics,
                  repo -> repos.get(repo).map(RepoSpec::getSourcePipeline),
                  false));
      security.observe(observability);
      StreamsStoreLocator locator =
          new StreamsStoreLocator(
              LineageStores.valueSerdes(topics), config.auth().requireInternalSecret());
      FunctionCounter.builder(
              "tusk.lineage.remote.reads", locator, StreamsStoreLocator::remoteReads)
          .description("Index reads answered by the instance that owns the key")
          .register(observability.registry());
      ServiceProxy commitService =
          config.commitUrl() == null
              ? null
              : lifecycle.open(
                  new ServiceProxy(
                      vertx, "commit service", config.commitUrl(), config.auth().tls().caFile()));
      SecuredRouter routes =
          LineageApi.router(vertx, locator, catalog, rows, security, commitService);
      routes.observability(observability);
      HttpServer server =
          lifecycle.serve(
              vertx,
              routes.router(),
              config.httpHost(),
              config.httpPort(),
              HttpServers.options(config.auth().tls()));
      lifecycle.open(observability.watchEventLoop(vertx));
      // Other instances read this one's stores on a listener of their own, behind the secret.
      HttpServer internal =
          lifecycle.serve(
              vertx,
              InternalStoreApi.router(vertx, locator, config.auth().requireInternalSecret()),
              config.httpHost(),
              config.internalPort());

      // The advertised address needs the actual port, so Kafka Streams starts after the server.
      String advertised = advertisedUrl(config, internal.actualPort());
      URI uri = URI.create(advertised);
      HostInfo self = new HostInfo(uri.getHost(), uri.getPort());
      OpenLineage openLineage = openLineage(config, catalog, observability, lifecycle);
      KafkaStreams streams =
          new KafkaStreams(
              LineageTopology.build(topics, kafka.systemPartitions(), openLineage),
              streamsProperties(config, self));
      StreamsApps.start(streams, STREAMS_NAME, lifecycle, observability, locator::stateChanged);
      locator.attach(streams, self);
      log.info(
          "Lineage service serving on {}:{}, internal listener advertised as {} (Kafka Streams {})",
          config.httpHost(),
          server.actualPort(),
          advertised,
          streams.state());
      return new LineageService(lifecycle, server, internal, advertised, routes);
    } catch (RuntimeException e) {
      lifecycle.close();
      throw AccessDenied.explained(SERVICE_NAME, e);
    }
  }

  /** The topology with the output repartition topics at their default size; for tests. */
  public static Topology buildTopology(Topics topics) {
    return buildTopology(topics, DEFAULT_OUTPUT_PARTITIONS);
  }

  /**
   * The indexes (see {@link LineageTopology}).
   *
   * @param outputPartitions partitions of the repartition topics fed by the output topics' pattern
   *     source; set explicitly because it cannot be derived while no output topic exists
   */
  static Topology buildTopology(Topics topics, int outputPartitions) {
    return LineageTopology.build(topics, outputPartitions, null);
  }

  /**
   * The OpenLineage emission configured, or null: the HTTP emitter (closed with the service) when a
   * URL is set, the events topic (created if missing) when a topic is set.
   */
  private static OpenLineage openLineage(
      LineageServiceConfig config,
      Catalog catalog,
      Observability observability,
      Lifecycle lifecycle) {
    OpenLineageSettings settings = config.openLineage();
    if (!settings.enabled()) {
      return null;
    }
    if (!settings.topic().isEmpty()) {
      createEventsTopic(config);
    }
    OpenLineageEmitter emitter = null;
    if (!settings.url().isEmpty()) {
      emitter =
          lifecycle.open(
              new OpenLineageEmitter(settings.url(), settings.backlog(), observability.registry()));
    }
    log.info(
        "OpenLineage events to {}{}",
        settings.url().isEmpty() ? "no HTTP endpoint" : settings.url(),
        settings.topic().isEmpty() ? "" : " and topic " + settings.topic());
    return new OpenLineage(
        settings,
        emitter,
        repo -> {
          RepoSpec spec = catalog.repos().get(repo);
          return spec == null ? TopicNames.updates(repo) : TopicNames.updatesOf(spec);
        });
  }

  private static void createEventsTopic(LineageServiceConfig config) {
    KafkaSettings kafka = config.kafka();
    try (TopicAdmin admin = new TopicAdmin(kafka)) {
      admin
          .admin()
          .createTopics(
              List.of(
                  new NewTopic(
                      config.openLineage().topic(),
                      kafka.systemPartitions(),
                      kafka.replicationFactor())))
          .all()
          .get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException(
            "cannot create the OpenLineage topic " + config.openLineage().topic(), e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating the OpenLineage topic", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out creating the OpenLineage topic", e);
    }
  }

  /** The HTTP port (the actual one when the configured port was 0). */
  public int port() {
    return server.actualPort();
  }

  /** The internal listener's port (the actual one when the configured port was 0). */
  public int internalPort() {
    return internal.actualPort();
  }

  /**
   * The public API's routes, each declared with what it needs of the caller (for the access matrix
   * test, which also checks them against the router's).
   */
  public SecuredRouter routes() {
    return routes;
  }

  /** The URL other instances reach this one's internal listener at. */
  public String advertisedUrl() {
    return advertisedUrl;
  }

  @Override
  public Lifecycle lifecycle() {
    return lifecycle;
  }

  /**
   * {@code TUSK_ADVERTISED_URL}, or http://(host name or bound address):(the internal listener's
   * actual port).
   */
  static String advertisedUrl(LineageServiceConfig config, int actualPort) {
    return HttpServers.advertisedUrl(config.advertisedUrl(), "http", config.httpHost(), actualPort);
  }

  static Properties streamsProperties(LineageServiceConfig config, HostInfo self) {
    KafkaSettings kafka = config.kafka();
    Properties props = new Properties();
    props.putAll(kafka.streams(APPLICATION_ID, config.stateDir()));
    // Indexes are idempotent upserts, so replays after a crash converge to the same stores:
    // at-least-once is exact enough and saves the transaction latency of exactly-once.
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    // Table caches forward to the secondary indexes on commit: keep that delay short.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
    // Outputs, datum results and jobs are written in transactions: index only committed ones (an
    // at-least-once application would otherwise read uncommitted and aborted records).
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG),
        IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
    // Where the other instances forward reads of the partitions this one owns.
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
    // New pipelines' output topics are found by pattern on metadata refresh: refresh often.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG), 2000);
    // A record that cannot be decoded or indexed is logged with its position and skipped: bad
    // input must not stop the indexes of everything else.
    props.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class);
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueProcessingExceptionHandler.class);
    props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    config.scaling().apply(props, kafka.instanceId());
    // Operators' TUSK_KAFKA_* settings still win over the defaults above.
    props.putAll(kafka.clientOverrides());
    return props;
  }
}
