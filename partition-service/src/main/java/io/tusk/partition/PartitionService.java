package io.tusk.partition;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.http.HttpServers;
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
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Branch;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition service: the rekeyer threads (step 2 of the commit protocol) and the Kafka Streams
 * application {@value PartitionTopology#APPLICATION_ID} (member topology, commit aggregator, job
 * tracker: steps 3, 4 and 6), with {@code /health}, {@code /metrics} and the member history queries
 * of {@link MemberApi} over HTTP (each needing a bearer token and its role, as every service's).
 * Instances with different {@code TUSK_INSTANCE_ID}s share the work through their consumer groups.
 */
public final class PartitionService implements Service {
  private static final Logger log = LoggerFactory.getLogger(PartitionService.class);

  /** The service's name in logs, and in the README's table of Kafka ACLs. */
  public static final String SERVICE = "partition-service";

  private final Lifecycle lifecycle = new Lifecycle(SERVICE);
  private final Observability observability = new Observability(SERVICE);
  private volatile KafkaStreams streams;
  private SecuredRouter routes;
  private int httpPort = -1;

  private PartitionService() {}

  /** Runs the service until the JVM is asked to stop. */
  public static void main(String[] args) {
    ServiceRunner.run(SERVICE, () -> start(PartitionServiceConfig.from(System.getenv())));
  }

  /**
   * Starts every part of the service and returns once Kafka Streams is RUNNING.
   *
   * @throws KafkaException if a part cannot reach Kafka (whatever did start is closed again)
   * @throws IllegalStateException if Kafka Streams does not reach RUNNING in time or the HTTP
   *     server cannot listen
   */
  public static PartitionService start(PartitionServiceConfig config) {
    Objects.requireNonNull(config, "config");
    PartitionService service = new PartitionService();
    try {
      service.startParts(config);
      return service;
    } catch (RuntimeException e) {
      service.close();
      throw AccessDenied.explained(SERVICE, e);
    }
  }

  private void startParts(PartitionServiceConfig config) {
    lifecycle.open(observability);
    Topics topics = new Topics(config.kafka().registryClient());
    CompactedTopicView<RepoSpec> repos;
    try (TopicAdmin admin = new TopicAdmin(config.kafka())) {
      admin.ensureSystemTopics();
      repos = CompactedTopicView.start(config.kafka(), topics.repos, Duration.ofSeconds(60));
      lifecycle.open(repos);
      // Repos made before row moves existed have no row-owners topic yet; creation is idempotent.
      repos.snapshot().values().forEach(admin::createRepoTopics);
    }
    observability.addHealthCheck("repo-view", repos::isHealthy);
    CompactedTopicView<PipelineSpec> pipelines =
        CompactedTopicView.start(config.kafka(), topics.pipelines, Duration.ofSeconds(60));
    lifecycle.open(pipelines);
    observability.addHealthCheck("pipeline-view", pipelines::isHealthy);
    CompactedTopicView<Branch> branches =
        CompactedTopicView.start(config.kafka(), topics.branches, Duration.ofSeconds(60));
    lifecycle.open(branches);
    observability.addHealthCheck("branch-view", branches::isHealthy);
    BranchHeads heads = BranchHeads.of(branches);

    for (int i = 0; i < config.rekeyerThreads(); i++) {
      Rekeyer rekeyer =
          Rekeyer.create(config.kafka(), topics, RepoDirectory.of(repos), observability, i);
      lifecycle.open(rekeyer);
      observability.addHealthCheck("rekeyer-" + i, rekeyer::isHealthy);
      rekeyer.onDenied(lifecycle::fail);
      rekeyer.start();
    }

    // The HTTP API listens first: its address is the Streams application.server, where the other
    // instances forward queries of the member partitions this one holds.
    Vertx vertx = Vertx.vertx();
    lifecycle.open(() -> Lifecycle.await(vertx.close(), "closing Vert.x"));
    Security security =
        lifecycle.open(
            Security.start(
                "partition-service",
                config.auth(),
                vertx,
                config.kafka(),
                topics,
                repo -> repos.get(repo).map(RepoSpec::getSourcePipeline),
                false));
    security.observe(observability);
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    routes = new SecuredRouter(router, security).observability(observability);
    HttpServer server =
        lifecycle.serve(
            vertx,
            router,
            config.httpHost(),
            config.httpPort(),
            HttpServers.options(config.auth().tls()));
    lifecycle.open(observability.watchEventLoop(vertx));
    String scheme = config.auth().tls().enabled() ? "https" : "http";
    URI advertised =
        URI.create(
            HttpServers.advertisedUrl(
                config.advertisedUrl(), scheme, config.httpHost(), server.actualPort()));
    HostInfo self = new HostInfo(advertised.getHost(), advertised.getPort());
    QueryRouting routing =
        lifecycle.open(
            new QueryRouting(
                vertx,
                QueryRouting.ofStreams(() -> streams, self),
                self,
                scheme,
                config.kafka().instanceId(),
                config.auth().tls().caFile()));
    // Queries read the member topology's stores of this instance's tasks.
    MemberQueries queries =
        new MemberQueries(
            repos::get,
            new MemberQueries.Stores() {
              @Override
              public <K, V> ReadOnlyKeyValueStore<K, V> store(String name, int partition) {
                try {
                  return streams.store(
                      StoreQueryParameters.fromNameAndType(
                              name, QueryableStoreTypes.<K, V>keyValueStore())
                          .withPartition(partition));
                } catch (InvalidStateStoreException e) {
                  throw ApiException.unavailable(
                      "member partition "
                          + partition
                          + " is not available here: "
                          + e.getMessage());
                }
              }
            });
    new MemberApi(vertx, queries, routing).mount(routes);

    streams =
        new KafkaStreams(
            PartitionTopology.build(
                topics, repos::get, pipelines::get, heads::oldest, config.completion()),
            streamsProperties(config, self));
    // Failed stream threads resume from their last committed transaction, so a transient failure
    // costs a retry; one that keeps failing stops the service loudly (StreamsApps).
    StreamsApps.start(streams, PartitionTopology.APPLICATION_ID, lifecycle, observability);

    httpPort = server.actualPort();
    log.info(
        "Partition service {} running: {} rekeyer threads, {} stream threads, HTTP port {}",
        config.kafka().instanceId(),
        config.rekeyerThreads(),
        config.streamThreads(),
        httpPort);
  }

  private static Properties streamsProperties(PartitionServiceConfig config, HostInfo self) {
    Map<String, Object> props =
        config.kafka().streams(PartitionTopology.APPLICATION_ID, config.stateDir());
    Properties properties = new Properties();
    // New repos' by-member topics join the pattern subscription within seconds, not minutes.
    properties.put(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG), 2000);
    properties.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
    properties.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
    properties.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, CorruptRecordHandler.class);
    config.scaling().apply(properties, config.kafka().instanceId());
    properties.putAll(props);
    return properties;
  }

  /** The port the health and metrics endpoint is bound to. */
  public int httpPort() {
    return httpPort;
  }

  /**
   * The HTTP routes, each declared with what it needs of the caller (for the access matrix test,
   * which also checks them against the router's).
   */
  public SecuredRouter routes() {
    return routes;
  }

  /** True while every part of the service is healthy. */
  public boolean isHealthy() {
    return observability.isHealthy();
  }

  /** Closes Kafka Streams, the HTTP server, the rekeyers and the views, in that order. */
  @Override
  public Lifecycle lifecycle() {
    return lifecycle;
  }
}
