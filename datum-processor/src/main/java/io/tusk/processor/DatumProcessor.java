package io.tusk.processor;

import io.tusk.common.config.ConfigException;
import io.tusk.common.config.KafkaSettings;
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
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.processor.transform.CommandRunner;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.processor.transform.TransformRunners;
import io.tusk.processor.transform.WorkerRunner;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.TransformKind;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The datum processor (step 5 of the commit protocol in docs/internals.md): a consumer-group worker
 * that runs one pipeline's transform on each datum of {@code <pipeline>.datums} and writes the
 * {@code Output} to {@code <pipeline>.output}, a {@code DatumResult} to {@code tusk.datum-results},
 * a {@code DatumDone} to {@code <repo>.by-member} and the consumed offsets in one transaction
 * (exactly once). Transforms are Java classes, commands run per datum, or long-lived workers (see
 * {@link io.tusk.processor.transform}); a datum is tried {@code datumTries} times, then recovered
 * by the error command or FAILED, its bytes on {@code <pipeline>.failed}. Each worker runs the
 * transform of each datum's spec hash: after a pipeline update it loads the new spec's transform
 * from {@code tusk.pipelines} on the first datum of the new hash (see {@link TransformSelector}).
 *
 * <p>Instances with different {@code TUSK_INSTANCE_ID}s share the work through the consumer group
 * {@code tusk-processor-<pipeline>}; each of an instance's {@code TUSK_PROCESSOR_THREADS} threads
 * has its own consumer, transactional producer ({@code
 * tusk-processor-<pipeline>-<instance>-<thread>}) and transform instance. The partition count of
 * the datum topic bounds the parallelism. {@code GET /health} and {@code GET /metrics} are served
 * on {@code TUSK_HTTP_HOST:TUSK_HTTP_PORT}.
 */
public final class DatumProcessor implements Service {
  private static final Logger log = LoggerFactory.getLogger(DatumProcessor.class);

  /** Service name in logs and metrics. */
  public static final String SERVICE = "datum-processor";

  private static final Duration VIEW_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration WORKER_JOIN_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration WORKER_READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration MIN_POLL_INTERVAL = Duration.ofMinutes(5);

  private final DatumProcessorConfig config;
  private final Observability observability = new Observability(SERVICE);
  private final List<DatumWorker> workers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final List<Path> workDirs = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  // Only for failure: what the processor opened is closed by close(), in its own order.
  private final Lifecycle lifecycle = new Lifecycle(SERVICE);
  private final CountDownLatch pipelineSeen = new CountDownLatch(1);
  private CompactedTopicView<RepoSpec> repos;
  private CompactedTopicView<PipelineSpec> pipelines;
  private PipelineSpecWatch pipelineSpec;
  private volatile boolean workersStarted;
  private Vertx vertx;
  private HttpServer server;
  private Security security;

  private DatumProcessor(DatumProcessorConfig config) {
    this.config = config;
  }

  @Override
  public Lifecycle lifecycle() {
    return lifecycle;
  }

  /** Runs the processor configured by the environment until the JVM is asked to stop. */
  public static void main(String[] args) {
    ServiceRunner.run(SERVICE, () -> start(DatumProcessorConfig.from(System.getenv())));
  }

  /**
   * Starts a processor: creates missing topics, reads repos and pipelines, waits for the pipeline's
   * spec, loads its transform, starts the workers and the HTTP server.
   *
   * @throws ConfigException if the pipeline does not appear within {@code
   *     TUSK_PIPELINE_WAIT_SECONDS} or its transform cannot be loaded
   */
  public static DatumProcessor start(DatumProcessorConfig config) {
    Objects.requireNonNull(config, "config");
    DatumProcessor processor = new DatumProcessor(config);
    try {
      processor.startUp();
      return processor;
    } catch (RuntimeException e) {
      processor.close();
      throw AccessDenied.explained(SERVICE, e);
    }
  }

  /** The port of the HTTP server (useful with {@code TUSK_HTTP_PORT=0}). */
  public int httpPort() {
    return server.actualPort();
  }

  private void startUp() {
    KafkaSettings settings = config.kafka();
    Topics topics = new Topics(settings.registryClient());
    PipelineSpec spec;
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
      repos = CompactedTopicView.start(settings, topics.repos, VIEW_TIMEOUT);
      pipelines = CompactedTopicView.start(settings, topics.pipelines, VIEW_TIMEOUT);
      pipelineSpec = new PipelineSpecWatch(() -> pipelines.get(config.pipeline()));
      pipelines.addListener(this::onPipelineUpdate);
      pipelineSpec.refresh(); // what the view read before the listener was added
      spec = awaitPipeline();
      ClassLoader loader = classLoader();
      // Fails start with a clear message; each worker then makes a runner of its own.
      checkTransform(spec, loader);
      // Usually made with the pipeline; creating them here keeps outputs off auto-created topics.
      admin.createPipelineTopics(spec);
      startWorkers(topics, spec, loader);
      workersStarted = true;
    }
    observability.addHealthCheck("repos-view", repos::isHealthy);
    observability.addHealthCheck("pipelines-view", pipelines::isHealthy);
    startHttp(topics);
    log.info(
        "Processing pipeline {} with {} transform {} (spec hash {}) on {} thread(s) as instance {};"
            + " HTTP on port {}",
        config.pipeline(),
        spec.getTransform().getKind(),
        TransformSelector.describe(spec.getTransform()),
        spec.getSpecHash(),
        config.threads(),
        settings.instanceId(),
        httpPort());
  }

  private PipelineSpec awaitPipeline() {
    Optional<PipelineSpec> spec = pipelines.get(config.pipeline());
    if (spec.isEmpty()) {
      log.info(
          "Waiting up to {} s for pipeline {} to appear in {}",
          config.pipelineWait().toSeconds(),
          config.pipeline(),
          TopicNames.PIPELINES);
      try {
        pipelineSeen.await(config.pipelineWait().toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException("interrupted waiting for pipeline " + config.pipeline(), e);
      }
      spec = pipelines.get(config.pipeline());
    }
    return spec.orElseThrow(
        () ->
            new ConfigException(
                DatumProcessorConfig.PIPELINE.name()
                    + " names pipeline '"
                    + config.pipeline()
                    + "', which did not appear in "
                    + TopicNames.PIPELINES
                    + " within "
                    + config.pipelineWait().toSeconds()
                    + " s"));
  }

  private void onPipelineUpdate(String name, PipelineSpec spec) {
    if (!name.equals(config.pipeline())) {
      return;
    }
    if (spec != null) {
      pipelineSeen.countDown();
    }
    PipelineSpecWatch watch = pipelineSpec;
    if (watch != null) {
      watch.refresh();
    }
    if (!workersStarted) {
      return; // still starting: the start log names the spec
    }
    if (spec == null) {
      log.warn(
          "Pipeline {} was deleted; its processors keep running (a pipeline created again under"
              + " this name is run from its first datum on)",
          name);
    } else {
      log.info(
          "Pipeline {} now has spec hash {} (transform {}); workers switch to it on its first"
              + " datum",
          name,
          spec.getSpecHash(),
          TransformSelector.describe(spec.getTransform()));
    }
  }

  private static void checkTransform(PipelineSpec spec, ClassLoader loader) {
    try {
      TransformRunners.check(spec, loader);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          "pipeline "
              + spec.getName()
              + " names transform '"
              + TransformSelector.describe(spec.getTransform())
              + "', which this processor cannot run: "
              + e.getMessage());
    }
  }

  private void startWorkers(Topics topics, PipelineSpec spec, ClassLoader loader) {
    ProcessorMetrics metrics = new ProcessorMetrics(observability.registry(), config.pipeline());
    RepoLayouts layouts = new RepoLayouts(repos);
    Duration maxPollInterval = maxPollInterval(spec);
    int maxRecordBytes =
        DatumMapper.maxRecordBytes(config.kafka().producer(SERVICE, config.groupId()));
    for (int i = 0; i < config.threads(); i++) {
      String processorId = config.kafka().instanceId() + "-" + i;
      Path workDir = workDir(i);
      workDirs.add(workDir);
      TransformSelector transforms =
          new TransformSelector(
              config.pipeline(),
              pipelineSpec,
              executions(loader, workDir, metrics),
              spec,
              TransformSelector.SPEC_WAIT);
      DatumMapper mapper =
          new DatumMapper(
              config.pipeline(),
              processorId,
              transforms,
              layouts,
              topics,
              Clock.systemUTC(),
              maxRecordBytes);
      DatumWorker worker =
          new DatumWorker(config, i, mapper, maxPollInterval, metrics, observability);
      Thread thread = new Thread(worker, "tusk-processor-" + config.pipeline() + "-" + i);
      workers.add(worker);
      threads.add(thread);
      // A worker thread that ended for any reason (a fatal error, even an Error) is DOWN, and the
      // processor cannot do its share of the pipeline any more: it fails, and its main exits
      // non-zero so that a supervisor starts it again.
      observability.addHealthCheck("worker-" + i, () -> worker.isHealthy() && thread.isAlive());
      worker.failure().thenAccept(lifecycle::fail);
      thread.setUncaughtExceptionHandler(
          (dead, error) -> {
            log.error("Worker thread {} died", dead.getName(), error);
            lifecycle.fail("worker thread " + dead.getName() + " died: " + error);
          });
      thread.start();
    }
    awaitWorkersReady();
  }

  /**
   * Waits until every worker has its group, datum topic and transactional ID, so that a missing ACL
   * fails the start (naming it) instead of leaving a processor that reports UP and does nothing.
   */
  private void awaitWorkersReady() {
    long deadline = System.nanoTime() + WORKER_READY_TIMEOUT.toNanos();
    for (DatumWorker worker : workers) {
      try {
        worker.ready().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException failure
            ? failure
            : new KafkaException("a worker failed to start", e.getCause());
      } catch (TimeoutException e) {
        throw new KafkaException(
            "the workers of pipeline "
                + config.pipeline()
                + " did not reach Kafka within "
                + WORKER_READY_TIMEOUT.toSeconds()
                + " s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KafkaException("interrupted waiting for the workers to start", e);
      }
    }
  }

  /** How one worker makes the execution of a spec's transform, in its own work directory. */
  private static TransformSelector.ExecutionFactory executions(
      ClassLoader loader, Path workDir, ProcessorMetrics metrics) {
    return new TransformSelector.ExecutionFactory() {
      @Override
      public void check(PipelineSpec spec) {
        TransformRunners.check(spec, loader);
      }

      @Override
      public DatumExecution create(PipelineSpec spec) {
        return TransformRunners.create(spec, loader, workDir, metrics::workerStarted);
      }
    };
  }

  /**
   * The thread's own directory under the system temporary directory ({@code java.io.tmpdir}),
   * emptied of what a crashed run may have left (datum directories hold health data).
   */
  private Path workDir(int thread) {
    Path dir =
        Path.of(System.getProperty("java.io.tmpdir"))
            .toAbsolutePath()
            .resolve(
                "tusk-processor-"
                    + config.pipeline()
                    + "-"
                    + config.kafka().instanceId()
                    + "-"
                    + thread);
    CommandRunner.deleteTree(dir);
    return dir;
  }

  /**
   * How long one poll's datums may take before the group considers the thread dead: the worst datum
   * (every try timing out, then the error command) plus the commit interval, and at least Kafka's
   * default of 5 minutes.
   */
  static Duration maxPollInterval(PipelineSpec spec) {
    Duration timeout = TransformRunners.timeout(spec);
    if (timeout == null) {
      return MIN_POLL_INTERVAL;
    }
    Duration attempt =
        spec.getTransform().getKind() == TransformKind.WORKER
            ? timeout.plus(WorkerRunner.START_ALLOWANCE)
            : timeout;
    Duration worst =
        attempt
            .multipliedBy(spec.getDatumTries())
            .plus(spec.getErrCmd().isEmpty() ? Duration.ZERO : timeout)
            .plus(Duration.ofMinutes(1));
    return worst.compareTo(MIN_POLL_INTERVAL) > 0 ? worst : MIN_POLL_INTERVAL;
  }

  /** {@code /health} (open) and {@code /metrics} (a token with reader on the cluster). */
  private void startHttp(Topics topics) {
    vertx = Vertx.vertx();
    security =
        Security.start(
            SERVICE,
            config.auth(),
            vertx,
            config.kafka(),
            topics,
            repo -> repos.get(repo).map(RepoSpec::getSourcePipeline),
            false);
    security.observe(observability);
    Router router = Router.router(vertx);
    HttpErrors.install(router);
    new SecuredRouter(router, security).observability(observability);
    try {
      server =
          vertx
              .createHttpServer(HttpServers.options(config.auth().tls()))
              .requestHandler(router)
              .listen(config.httpPort(), config.httpHost())
              .toCompletionStage()
              .toCompletableFuture()
              .get(HTTP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted starting the HTTP server", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "cannot serve HTTP on "
              + config.httpHost()
              + ":"
              + config.httpPort()
              + " ("
              + DatumProcessorConfig.HTTP_PORT.name()
              + "): "
              + e.getMessage(),
          e);
    }
  }

  private static ClassLoader classLoader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : DatumProcessor.class.getClassLoader();
  }

  /**
   * Stops the workers (aborting open transactions, stopping worker processes), the HTTP server and
   * the views, and deletes the threads' work directories.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    lifecycle.close(); // from now on a worker's failure is the close itself
    workers.forEach(DatumWorker::stop);
    for (Thread thread : threads) {
      try {
        thread.join(WORKER_JOIN_TIMEOUT.toMillis());
        if (thread.isAlive()) {
          log.warn(
              "Worker thread {} did not stop within {}", thread.getName(), WORKER_JOIN_TIMEOUT);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (vertx != null) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        log.warn("HTTP server did not close cleanly", e);
      }
    }
    if (security != null) {
      security.close();
    }
    if (pipelines != null) {
      pipelines.close();
    }
    if (repos != null) {
      repos.close();
    }
    observability.close();
    for (Path dir : workDirs) {
      try {
        CommandRunner.deleteTree(dir);
      } catch (UncheckedIOException e) {
        log.warn("Cannot delete work directory {}: {}", dir, e.getCause().toString());
      }
    }
  }
}
