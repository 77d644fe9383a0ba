package io.tusk.commit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.http.ApiException;
import io.tusk.common.kafka.AccessDenied;
import io.tusk.common.kafka.Consumers;
import io.tusk.common.topics.Topic;
import io.tusk.schemas.Commit;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.SealRequest;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals the output commits of the DAG: for each {@link SealRequest} on {@code tusk.seal-requests}
 * (a job of pipeline P ended), seals every repo derived from P's outputs on master, with {@code
 * sourceJob} = the job, {@code sourceRound} = the request's round (0 for the job's end, n for its
 * n-th restart round) and the request's global ID, which starts the downstream pipelines'
 * incremental jobs, then announces the round's end on its input repo (JobDone with the round),
 * which lets P's next job start. One global ID thus runs through the whole DAG, and each output
 * commit holds exactly the outputs of its job and the jobs before it.
 *
 * <p>A consumer in group {@code tusk-commit-sealer} on its own thread; offsets are committed after
 * the seals, and a request whose job round already has an output commit in a repo is skipped there,
 * so a request read twice (after a crash) seals once. A seal that fails is retried from the same
 * record after a pause; an undecodable record is logged, counted and skipped.
 */
final class OutputCommits implements AutoCloseable {
  static final String GROUP_ID = "tusk-commit-sealer";

  private static final Logger log = LoggerFactory.getLogger(OutputCommits.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
  private static final long SEAL_TIMEOUT_SECONDS = 60;
  private static final long MAX_BACKOFF_MS = 10_000;
  private static final Duration ACCESS_CHECK_TIMEOUT = Duration.ofSeconds(30);

  private final ControlPlane control;
  private final Topic<String, SealRequest> topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final Counter sealed;
  private final Counter skipped;
  private final Counter undecodable;
  private volatile boolean running = true;
  private volatile boolean started;
  private volatile java.util.function.Consumer<String> onDenied = reason -> {};

  OutputCommits(KafkaSettings settings, ControlPlane control, MeterRegistry metrics) {
    this.control = control;
    this.topic = control.topics.sealRequests;
    String clientId = GROUP_ID + "-" + settings.instanceId();
    this.consumer = new KafkaConsumer<>(settings.consumer(clientId, GROUP_ID));
    this.thread = new Thread(this::run, clientId);
    this.thread.setDaemon(true);
    this.sealed =
        Counter.builder("tusk.output.commits")
            .description("Output commits sealed for ended upstream jobs")
            .register(metrics);
    this.skipped =
        Counter.builder("tusk.output.commits.duplicate")
            .description(
                "Seal requests skipped in a repo because their job round had its output commit")
            .register(metrics);
    this.undecodable =
        Counter.builder("tusk.seal.requests.undecodable")
            .description("Records of tusk.seal-requests that could not be decoded (skipped)")
            .register(metrics);
  }

  /**
   * Starts consuming, once Kafka has shown it allows the group and the topic.
   *
   * @throws org.apache.kafka.common.errors.AuthorizationException if it does not
   */
  void start() {
    consumer.subscribe(List.of(topic.name()));
    Consumers.checkGroupAccess(consumer, topic.name(), ACCESS_CHECK_TIMEOUT);
    thread.start();
    started = true;
  }

  /** Tells {@code listener} why the consumer stopped when Kafka denied it an ACL later on. */
  void onDenied(java.util.function.Consumer<String> listener) {
    this.onDenied = listener;
  }

  /** True while the consumer thread runs. */
  boolean isHealthy() {
    return thread.isAlive();
  }

  private void run() {
    long backoffMs = 500;
    try {
      while (running) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL_TIMEOUT);
        for (TopicPartition partition : records.partitions()) {
          for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
            try {
              handle(record);
              consumer.commitSync(Map.of(partition, new OffsetAndMetadata(record.offset() + 1)));
              backoffMs = 500;
            } catch (KafkaException | IllegalStateException | ApiException e) {
              // Transient (broker, timeout, the lead lost a moment before this consumer stops):
              // read this partition again from this record after a pause; seals done before the
              // failure are skipped the next time.
              log.warn(
                  "Sealing output commits for the seal request at {} offset {} failed; retrying"
                      + " in {} ms",
                  partition,
                  record.offset(),
                  backoffMs,
                  e);
              consumer.seek(partition, record.offset());
              pause(backoffMs);
              backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
              break;
            }
          }
        }
      }
    } catch (WakeupException e) {
      if (running) {
        log.error("Seal request consumer woken up unexpectedly", e);
      }
    } catch (RuntimeException e) {
      log.error("Seal request consumer stopped", e);
      AccessDenied.explain(CommitService.SERVICE, e).ifPresent(onDenied);
    } finally {
      consumer.close();
    }
  }

  private void handle(ConsumerRecord<byte[], byte[]> record) {
    SealRequest request;
    try {
      request = record.value() == null ? null : topic.readValue(record.value());
    } catch (SerializationException e) {
      undecodable.increment();
      log.error(
          "Skipping undecodable seal request at partition {} offset {}: {}",
          record.partition(),
          record.offset(),
          e.getMessage());
      return;
    }
    if (request == null) {
      return;
    }
    for (RepoSpec repo : derivedFrom(request.getPipeline())) {
      sealOnce(repo.getName(), request);
    }
    // Only now may the pipeline's next job start: its outputs cannot fall into these commits.
    if (!request.getRepo().isEmpty()) {
      RepoSpec input = control.repos.get(request.getRepo()).orElse(null);
      if (input == null) {
        log.error(
            "Seal request of job {} names unknown repo {}; its end is not announced",
            request.getJobId(),
            request.getRepo());
      } else {
        control.sealer.announceJobDone(
            input.getName(),
            input.getMemberPartitions(),
            request.getPipeline(),
            request.getJobId(),
            request.getRound());
      }
    }
  }

  /**
   * Seals {@code repo} for the request's job round unless that round already has its output commit
   * there: each restart round of a job gets an output commit of its own (its recovered outputs),
   * and a request read twice seals once.
   */
  private void sealOnce(String repo, SealRequest request) {
    CommitSealer.OutputSource source =
        new CommitSealer.OutputSource(
            request.getJobId(), request.getRound(), request.getGlobalId());
    try {
      Commit commit =
          control
              .tasks
              .submit(
                  ControlPlane.repoQueue(repo),
                  () -> {
                    if (control
                        .commits
                        .bySource(repo, source.jobId(), source.round())
                        .isPresent()) {
                      return null;
                    }
                    return control.sealNow(repo, ControlPlane.MASTER, source);
                  })
              .toCompletionStage()
              .toCompletableFuture()
              .get(SEAL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (commit == null) {
        skipped.increment();
        log.info(
            "Round {} of job {} already has its output commit in repo {}",
            source.round(),
            source.jobId(),
            repo);
      } else {
        sealed.increment();
        log.info(
            "Output commit {} of repo {} for round {} of job {} of pipeline {} ({} downstream"
                + " jobs)",
            commit.getId(),
            repo,
            source.round(),
            source.jobId(),
            request.getPipeline(),
            commit.getJobs().size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sealing " + repo, e);
    } catch (ExecutionException e) {
      throw new KafkaException("cannot seal output commit of " + repo, e.getCause());
    } catch (TimeoutException e) {
      throw new KafkaException("timed out sealing output commit of " + repo, e);
    }
  }

  private List<RepoSpec> derivedFrom(String pipeline) {
    return control.repos.snapshot().values().stream()
        .filter(repo -> pipeline.equals(repo.getSourcePipeline()))
        .sorted(Comparator.comparing(RepoSpec::getName))
        .toList();
  }

  private void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  @Override
  public void close() {
    running = false;
    if (!started) {
      // The consumer thread closes the consumer; without it, close it here.
      consumer.close();
      return;
    }
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
