package io.tusk.cli.local;

import io.tusk.common.config.Config;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.Topics;
import io.tusk.processor.DatumProcessor;
import io.tusk.processor.DatumProcessorConfig;
import io.tusk.schemas.PipelineSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs datum processors for every pipeline, locally: when a pipeline appears in {@code
 * tusk.pipelines} it starts that many processor instances in this JVM, the way Pachyderm starts a
 * pipeline's workers. In production each processor is its own deployment instead.
 */
public final class ProcessorSupervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProcessorSupervisor.class);

  private static final Duration STOP_START_TIMEOUT = Duration.ofSeconds(120);

  private final Map<String, String> baseEnv;
  private final int instances;
  private final Map<String, List<DatumProcessor>> processors = new ConcurrentHashMap<>();
  private final ExecutorService starter =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "tusk-processor-supervisor"));
  private CompactedTopicView<PipelineSpec> pipelines;
  private volatile boolean closed;

  private ProcessorSupervisor(Map<String, String> baseEnv, int instances) {
    this.baseEnv = Map.copyOf(baseEnv);
    this.instances = instances;
  }

  /** Starts supervising; processors for pipelines that already exist start in the background. */
  public static ProcessorSupervisor start(Map<String, String> baseEnv, int instances) {
    ProcessorSupervisor supervisor = new ProcessorSupervisor(baseEnv, instances);
    KafkaSettings settings =
        KafkaSettings.from(Config.load(baseEnv, KafkaSettings.KEYS))
            .withInstanceId("local-supervisor");
    try (TopicAdmin admin = new TopicAdmin(settings)) {
      admin.ensureSystemTopics();
    }
    Topics topics = new Topics(settings.registryClient());
    supervisor.pipelines =
        CompactedTopicView.start(settings, topics.pipelines, Duration.ofSeconds(60));
    supervisor.pipelines.addListener((name, spec) -> supervisor.schedule(name, spec));
    supervisor.pipelines.snapshot().forEach(supervisor::schedule);
    return supervisor;
  }

  /** Processor instances running per pipeline. */
  public Map<String, Integer> running() {
    Map<String, Integer> counts = new HashMap<>();
    processors.forEach((name, list) -> counts.put(name, list.size()));
    return counts;
  }

  /**
   * Stops every processor instance of a pipeline (a crash of its deployment, for the soak); its
   * datums wait in {@code <pipeline>.datums} until {@link #startAgain} starts new instances.
   */
  public void stop(String pipeline) {
    onStarter(
        () -> {
          List<DatumProcessor> running = processors.get(pipeline);
          if (running == null) {
            throw new IllegalArgumentException("no processors for pipeline " + pipeline);
          }
          running.forEach(ProcessorSupervisor::closeQuietly);
          running.clear();
          log.info("Stopped the datum processors of pipeline {}", pipeline);
        });
  }

  /** Starts the pipeline's processor instances again after {@link #stop}. */
  public void startAgain(String pipeline) {
    onStarter(
        () -> {
          if (!processors.containsKey(pipeline) || !processors.get(pipeline).isEmpty()) {
            throw new IllegalStateException("the processors of " + pipeline + " are not stopped");
          }
          startProcessors(pipeline);
        });
  }

  /** Runs {@code task} on the thread that starts processors (so lists change on one thread). */
  private void onStarter(Runnable task) {
    try {
      starter.submit(task).get(STOP_START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException runtime
          ? runtime
          : new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "processors did not stop or start in " + STOP_START_TIMEOUT, e);
    }
  }

  private void schedule(String name, PipelineSpec spec) {
    if (spec == null || closed || processors.containsKey(name)) {
      return;
    }
    processors.put(name, new ArrayList<>());
    starter.execute(() -> startProcessors(name));
  }

  private void startProcessors(String pipeline) {
    if (pipelines.get(pipeline).isEmpty()) {
      // Deleted since it was scheduled: a processor would wait for it in vain and hold up the
      // processors of the pipelines created after it.
      log.info("Pipeline {} was deleted before its processors started", pipeline);
      return;
    }
    for (int i = 0; i < instances && !closed; i++) {
      Map<String, String> env = new HashMap<>(baseEnv);
      env.put("TUSK_PIPELINE", pipeline);
      env.put(KafkaSettings.INSTANCE_ID.name(), "local-" + pipeline + "-" + i);
      env.put("TUSK_HTTP_HOST", "127.0.0.1");
      env.put("TUSK_HTTP_PORT", "0");
      try {
        DatumProcessor processor = DatumProcessor.start(DatumProcessorConfig.from(env));
        processors.get(pipeline).add(processor);
        log.info("Started datum processor {} of pipeline {}", i, pipeline);
      } catch (RuntimeException e) {
        log.error("Cannot start a datum processor for pipeline {}", pipeline, e);
        return;
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    starter.shutdownNow();
    if (pipelines != null) {
      pipelines.close();
    }
    processors.values().forEach(list -> list.forEach(ProcessorSupervisor::closeQuietly));
    processors.clear();
  }

  private static void closeQuietly(DatumProcessor processor) {
    try {
      processor.close();
    } catch (RuntimeException e) {
      log.warn("Closing a datum processor failed", e);
    }
  }
}
