package io.tusk.partition;

import io.tusk.common.http.ApiException;
import io.tusk.common.http.HttpErrors;
import io.tusk.common.http.HttpServers;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.ops.Observability;
import io.tusk.common.service.ServiceRunner;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition service: the rekeyer threads (step 2 of the commit protocol) and the Kafka Streams
 * application {@value PartitionTopology#APPLICATION_ID} (member topology, commit aggregator, job
 * tracker: steps 3, 4 and 6), with {@code /health}, {@code /metrics} and the member history queries
 * of {@link MemberApi} over HTTP. Instances with different {@code TUSK_INSTANCE_ID}s share the work
 * through their consumer groups.
 */
public final class PartitionService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PartitionService.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final Observability observability = new Observability("partition-service");
  private KafkaStreams streams;
  private int httpPort = -1;

  private PartitionService() {}

  /** Runs the service until the JVM is asked to stop. */
  public static void main(String[] args) {
    ServiceRunner.run(
        "partition-service", () -> start(PartitionServiceConfig.from(System.getenv())));
  }

  /**
   * Starts every part of the service and returns once Kafka Streams is RUNNING.
   *
   * @throws KafkaException if a part cannot start (whatever did start is closed again)
   */
  public static PartitionService start(PartitionServiceConfig config) {
    Objects.requireNonNull(config, "config");
    PartitionService service = new PartitionService();
    try {
      service.startParts(config);
      return service;
    } catch (RuntimeException e) {
      service.close();
      throw e;
    }
  }

  private void startParts(PartitionServiceConfig config) {
    resources.add(observability);
    Topics topics = new Topics(config.kafka().registryClient());
    CompactedTopicView<RepoSpec> repos;
    try (TopicAdmin admin = new TopicAdmin(config.kafka())) {
      admin.ensureSystemTopics();
      repos = CompactedTopicView.start(config.kafka(), topics.repos, Duration.ofSeconds(60));
      resources.add(repos);
      // Repos made before row moves existed have no row-owners topic yet; creation is idempotent.
      repos.snapshot().values().forEach(admin::createRepoTopics);
    }
    observability.addHealthCheck("repo-view", repos::isHealthy);
    CompactedTopicView<PipelineSpec> pipelines =
        CompactedTopicView.start(config.kafka(), topics.pipelines, Duration.ofSeconds(60));
    resources.add(pipelines);
    observability.addHealthCheck("pipeline-view", pipelines::isHealthy);

    for (int i = 0; i < config.rekeyerThreads(); i++) {
      Rekeyer rekeyer =
          Rekeyer.create(config.kafka(), topics, RepoDirectory.of(repos), observability, i);
      resources.add(rekeyer);
      observability.addHealthCheck("rekeyer-" + i, rekeyer::isHealthy);
      rekeyer.start();
    }

    streams =
        new KafkaStreams(
            PartitionTopology.build(topics, repos::get, pipelines::get, config.completion()),
            streamsProperties(config));
    // Leaving the group hands this instance's tasks over at once instead of after the session
    // timeout, during which the commits of its member partitions could not complete.
    resources.add(
        () ->
            streams.close(
                CloseOptions.groupMembershipOperation(
                        CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(30))));
    // A failed stream thread is replaced: it resumes from its last committed transaction, so a
    // transient failure (registry or broker unreachable) costs a retry, never data.
    streams.setUncaughtExceptionHandler(
        e -> {
          log.error("Kafka Streams thread failed; replacing it", e);
          return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    observability.bind(streams, PartitionTopology.APPLICATION_ID);
    awaitRunning(streams);

    Vertx vertx = Vertx.vertx();
    resources.add(() -> await(vertx.close().toCompletionStage().toCompletableFuture()));
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
    Router router = Router.router(vertx);
    observability.mount(router);
    new MemberApi(vertx, queries).mount(router);
    HttpErrors.install(router);
    HttpServer server =
        await(
            vertx
                .createHttpServer(HttpServers.options())
                .requestHandler(router)
                .listen(config.httpPort(), config.httpHost())
                .toCompletionStage()
                .toCompletableFuture());
    httpPort = server.actualPort();
    log.info(
        "Partition service {} running: {} rekeyer threads, {} stream threads, HTTP port {}",
        config.kafka().instanceId(),
        config.rekeyerThreads(),
        config.streamThreads(),
        httpPort);
  }

  private static Properties streamsProperties(PartitionServiceConfig config) {
    Map<String, Object> props =
        config.kafka().streams(PartitionTopology.APPLICATION_ID, config.stateDir());
    Properties properties = new Properties();
    // New repos' by-member topics join the pattern subscription within seconds, not minutes.
    properties.put(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG), 2000);
    properties.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
    properties.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, CorruptRecordHandler.class);
    properties.putAll(props);
    return properties;
  }

  private static void awaitRunning(KafkaStreams streams) {
    CountDownLatch running = new CountDownLatch(1);
    streams.setStateListener(
        (now, before) -> {
          if (now == KafkaStreams.State.RUNNING
              || now == KafkaStreams.State.ERROR
              || now == KafkaStreams.State.NOT_RUNNING) {
            running.countDown();
          }
        });
    streams.start();
    try {
      if (!running.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new KafkaException("Kafka Streams did not reach RUNNING within " + START_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted waiting for Kafka Streams", e);
    }
    if (streams.state() != KafkaStreams.State.RUNNING
        && streams.state() != KafkaStreams.State.REBALANCING) {
      throw new KafkaException("Kafka Streams failed to start: " + streams.state());
    }
  }

  private static <T> T await(java.util.concurrent.CompletableFuture<T> future) {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new KafkaException("HTTP server failed: " + e.getMessage(), e);
    }
  }

  /** The port the health and metrics endpoint is bound to. */
  public int httpPort() {
    return httpPort;
  }

  /** True while every part of the service is healthy. */
  public boolean isHealthy() {
    return observability.isHealthy();
  }

  /** Stops the HTTP server, Kafka Streams, the rekeyers and the repo view, in that order. */
  @Override
  public void close() {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        log.warn("Closing part of the partition service failed", e);
      }
    }
    resources.clear();
  }
}
