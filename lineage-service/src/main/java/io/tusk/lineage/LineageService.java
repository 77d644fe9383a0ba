package io.tusk.lineage;

import io.tusk.common.config.KafkaSettings;
import io.tusk.common.ops.Observability;
import io.tusk.common.service.ServiceRunner;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.Job;
import io.tusk.schemas.Output;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lineage service: a Kafka Streams application that indexes Tusk's commits, jobs and pipeline
 * outputs in state stores, and an HTTP API ({@link LineageApi}) that answers lineage queries from
 * them, with {@code /health} and {@code /metrics} on the same port.
 *
 * <p>It only reads Tusk's topics: {@code tusk.commits}, {@code tusk.jobs} and every {@code
 * <pipeline>.output} (by pattern, so pipelines created later are picked up within seconds).
 */
public final class LineageService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LineageService.class);

  /** The Kafka Streams application ID (consumer group, internal topic prefix). */
  public static final String APPLICATION_ID = "tusk-lineage";

  /** Commit ID -> latest {@link Commit} (stats once the commit completed). */
  public static final String COMMITS_STORE = "commits-store";

  /** Job ID -> latest {@link Job} (live counts and state). */
  public static final String JOBS_STORE = "jobs-store";

  /** Commit ID -> IDs of the jobs it triggered, sorted. */
  public static final String COMMIT_JOBS_STORE = "commit-jobs-store";

  /** {@code <pipeline>/<member>} -> latest {@link Output}. */
  public static final String OUTPUTS_STORE = "outputs-store";

  /** Partitions of the outputs repartition topic when no deployment setting is given (tests). */
  static final int DEFAULT_OUTPUT_PARTITIONS = 6;

  private static final String SERVICE_NAME = "lineage-service";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
  private static final long HTTP_TIMEOUT_SECONDS = 30;

  private final KafkaStreams streams;
  private final Observability observability;
  private final Vertx vertx;
  private final HttpServer server;

  private LineageService(
      KafkaStreams streams, Observability observability, Vertx vertx, HttpServer server) {
    this.streams = streams;
    this.observability = observability;
    this.vertx = vertx;
    this.server = server;
  }

  /** Runs the service until the JVM is asked to stop. */
  public static void main(String[] args) {
    ServiceRunner.run(
        SERVICE_NAME, () -> LineageService.start(LineageServiceConfig.from(System.getenv())));
  }

  /**
   * Creates the system topics if needed, starts the indexes, waits until Kafka Streams is RUNNING
   * (at most 120 s), then serves HTTP.
   *
   * @throws IllegalStateException if Kafka Streams does not reach RUNNING in time or the HTTP
   *     server cannot listen (in time)
   */
  public static LineageService start(LineageServiceConfig config) {
    Objects.requireNonNull(config, "config");
    KafkaSettings kafka = config.kafka();
    try (TopicAdmin admin = new TopicAdmin(kafka)) {
      admin.ensureSystemTopics();
    }
    Topics topics = new Topics(kafka.registryClient());
    KafkaStreams streams =
        new KafkaStreams(
            buildTopology(topics, kafka.systemPartitions()), streamsProperties(config));
    Observability observability = new Observability(SERVICE_NAME);
    Vertx vertx = null;
    try {
      observability.bind(streams, "lineage-streams");
      awaitRunning(streams);
      vertx = Vertx.vertx();
      Router router = LineageApi.router(vertx, new LocalStoreLocator(streams));
      observability.mount(router);
      HttpServer server =
          vertx
              .createHttpServer(io.tusk.common.http.HttpServers.options())
              .requestHandler(router)
              .listen(config.httpPort(), config.httpHost())
              .await(HTTP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      log.info(
          "Lineage service serving on {}:{} (Kafka Streams {})",
          config.httpHost(),
          server.actualPort(),
          streams.state());
      return new LineageService(streams, observability, vertx, server);
    } catch (Exception e) {
      // Also checked failures Vert.x rethrows from await (e.g. the port is taken).
      closeAll(streams, observability, vertx, null);
      if (e instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("cannot start the HTTP server: " + e.getMessage(), e);
    }
  }

  /** The topology with the output repartition topic at its default size; for tests. */
  public static Topology buildTopology(Topics topics) {
    return buildTopology(topics, DEFAULT_OUTPUT_PARTITIONS);
  }

  /**
   * The indexes: commits and jobs as tables of their compacted topics, the commit -> job IDs index,
   * and the outputs of every pipeline keyed by {@code <pipeline>/<member>}.
   *
   * @param outputPartitions partitions of the outputs repartition topic; set explicitly because it
   *     cannot be derived from the pattern source while no output topic exists
   */
  static Topology buildTopology(Topics topics, int outputPartitions) {
    Objects.requireNonNull(topics, "topics");
    StreamsBuilder builder = new StreamsBuilder();
    Serde<String> keys = topics.keySerde();

    // Latest version of each commit: the completed record (with stats) replaces the sealed one.
    builder.table(
        topics.commits.name(),
        topics.commits.consumed().withName("commits"),
        Materialized.<String, Commit, KeyValueStore<Bytes, byte[]>>as(COMMITS_STORE)
            .withKeySerde(keys)
            .withValueSerde(topics.commits.valueSerde()));

    // Latest version of each job: every change of counts or state replaces the previous one.
    KTable<String, Job> jobs =
        builder.table(
            topics.jobs.name(),
            topics.jobs.consumed().withName("jobs"),
            Materialized.<String, Job, KeyValueStore<Bytes, byte[]>>as(JOBS_STORE)
                .withKeySerde(keys)
                .withValueSerde(topics.jobs.valueSerde()));

    // Job IDs by commit: re-key by commit ID; a job update subtracts then adds the same ID.
    jobs.groupBy(
            (jobId, job) -> KeyValue.pair(job.getCommitId(), jobId),
            Grouped.with("jobs-by-commit", keys, keys))
        .aggregate(
            List::<String>of,
            (commitId, jobId, ids) -> withJob(ids, jobId),
            (commitId, jobId, ids) -> withoutJob(ids, jobId),
            Named.as("commit-jobs"),
            Materialized.<String, List<String>, KeyValueStore<Bytes, byte[]>>as(COMMIT_JOBS_STORE)
                .withKeySerde(keys)
                .withValueSerde(jobIdsSerde()));

    // Outputs of every pipeline, also those created later; keyed by pipeline and member so the
    // store's partitioning follows the query key.
    builder.stream(
            TopicNames.OUTPUT_PATTERN,
            Consumed.with(keys, topics.outputSerde()).withName("outputs-source"))
        .process(OutputKeyer::new, Named.as("outputs-keyer"))
        .repartition(
            Repartitioned.<String, Output>as("outputs-by-key")
                .withKeySerde(keys)
                .withValueSerde(topics.outputSerde())
                .withNumberOfPartitions(outputPartitions))
        .toTable(
            Named.as("outputs-table"),
            Materialized.<String, Output, KeyValueStore<Bytes, byte[]>>as(OUTPUTS_STORE)
                .withKeySerde(keys)
                .withValueSerde(topics.outputSerde()));

    return builder.build();
  }

  /** The HTTP port (the actual one when the configured port was 0). */
  public int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    closeAll(streams, observability, vertx, server);
  }

  static Properties streamsProperties(LineageServiceConfig config) {
    KafkaSettings kafka = config.kafka();
    Properties props = new Properties();
    props.putAll(kafka.streams(APPLICATION_ID, config.stateDir()));
    // Indexes are idempotent upserts, so replays after a crash converge to the same stores:
    // at-least-once is exact enough and saves the transaction latency of exactly-once.
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    // Table caches forward to the commit index on commit: keep that delay short.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
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
    // Operators' TUSK_KAFKA_* settings still win over the defaults above.
    props.putAll(kafka.clientOverrides());
    return props;
  }

  private static void awaitRunning(KafkaStreams streams) {
    CountDownLatch settled = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean();
    streams.setStateListener(
        (newState, oldState) -> {
          log.info("Kafka Streams {} -> {}", oldState, newState);
          if (newState == KafkaStreams.State.RUNNING) {
            running.set(true);
            settled.countDown();
          } else if (!newState.isRunningOrRebalancing() && newState != KafkaStreams.State.CREATED) {
            settled.countDown();
          }
        });
    streams.setUncaughtExceptionHandler(
        e -> {
          // Loud: the instance stops, /health turns DOWN and the orchestrator restarts it.
          log.error("Kafka Streams thread failed; shutting the indexes down", e);
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    long startNanos = System.nanoTime();
    streams.start();
    try {
      if (!settled.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            "Kafka Streams did not reach RUNNING within "
                + START_TIMEOUT.toSeconds()
                + " s (state "
                + streams.state()
                + ")");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Kafka Streams", e);
    }
    if (!running.get()) {
      throw new IllegalStateException(
          "Kafka Streams stopped while starting (state " + streams.state() + ")");
    }
    log.info(
        "Kafka Streams RUNNING after {} ms",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
  }

  private static void closeAll(
      KafkaStreams streams, Observability observability, Vertx vertx, HttpServer server) {
    // HTTP first, so no query reaches a closing store.
    if (server != null) {
      awaitQuietly("closing the HTTP server", () -> server.close().await(30, TimeUnit.SECONDS));
    }
    if (vertx != null) {
      awaitQuietly("closing Vert.x", () -> vertx.close().await(30, TimeUnit.SECONDS));
    }
    // Leaving the group lets a restarted or other instance take the tasks at once instead of after
    // the session timeout.
    if (!streams.close(
        CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
            .withTimeout(CLOSE_TIMEOUT))) {
      log.warn("Kafka Streams did not close within {} s", CLOSE_TIMEOUT.toSeconds());
    }
    observability.close();
  }

  private static void awaitQuietly(String what, ThrowingAction action) {
    try {
      action.run();
    } catch (TimeoutException | RuntimeException e) {
      log.warn("Failed {}", what, e);
    }
  }

  /** Sorted, without duplicates: the same job ID may be added again by a replay. */
  private static List<String> withJob(List<String> ids, String jobId) {
    if (ids.contains(jobId)) {
      return ids;
    }
    List<String> result = new ArrayList<>(ids);
    result.add(jobId);
    result.sort(null);
    return result;
  }

  private static List<String> withoutJob(List<String> ids, String jobId) {
    List<String> result = new ArrayList<>(ids);
    result.remove(jobId);
    return result;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serde<List<String>> jobIdsSerde() {
    return (Serde) Serdes.ListSerde(ArrayList.class, Serdes.String());
  }

  @FunctionalInterface
  private interface ThrowingAction {
    void run() throws TimeoutException;
  }
}
