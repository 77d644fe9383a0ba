package io.tusk.lineage;

import io.tusk.common.Ids;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicAdmin;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Commit;
import io.tusk.schemas.InputRef;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.tusk.schemas.Output;
import io.tusk.schemas.PartitionOffset;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The lineage benchmark: indexes many outputs written straight to a pipeline's output topic (the
 * pipeline path is measured elsewhere), then looks up provenance by key at a steady rate from an
 * open-loop load generator on loopback, while measuring how long a new output takes to become
 * queryable. Prints figures; it is not a timed test.
 *
 * <p>Latency is measured from each request's scheduled send time, so a stalled server cannot hide
 * its queueing delay (no coordinated omission).
 */
public final class LineageBenchmark {
  private static final int OUTPUT_PARTITIONS = 6;
  private static final int SOURCE_PARTITIONS = 3;
  private static final Duration QUERYABLE_DEADLINE = Duration.ofMinutes(30);

  private LineageBenchmark() {}

  /**
   * What to measure.
   *
   * @param outputs outputs to index
   * @param rate provenance lookups per second
   * @param duration how long the lookups run
   * @param freshnessSamples new outputs whose produce-to-queryable time is measured meanwhile
   */
  public record Options(int outputs, int rate, Duration duration, int freshnessSamples) {
    /** 1M outputs, 500 lookups/s for 60 s, 50 freshness samples. */
    public static Options defaults() {
      return new Options(1_000_000, 500, Duration.ofSeconds(60), 50);
    }
  }

  /**
   * The figures.
   *
   * @param produceSeconds time to write the outputs
   * @param queryableSeconds from the first output written until the last ones were queryable
   * @param indexSeconds from the first output written until every index caught up (no lag)
   * @param latencyMicros p50, p99, p99.9 and max of the lookups
   * @param freshnessMillis p50, p99 and max produce-to-queryable of single new outputs
   */
  public record Result(
      int outputs,
      double produceSeconds,
      double queryableSeconds,
      double indexSeconds,
      long requests,
      long errors,
      double achievedRate,
      long[] latencyMicros,
      long[] freshnessMillis) {

    /** The figures as text. */
    public String report() {
      return String.format(
          "indexed %,d outputs: written in %.1f s, latest queryable after %.1f s, every index"
              + " caught up after %.1f s (%,.0f outputs/s)%n"
              + "provenance lookups: %,d requests at %.0f/s, %d errors; latency p50 %.2f ms,"
              + " p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n"
              + "index lag (produce-to-queryable of a new output): p50 %d ms, p99 %d ms, max %d ms",
          outputs,
          produceSeconds,
          queryableSeconds,
          indexSeconds,
          outputs / indexSeconds,
          requests,
          achievedRate,
          errors,
          latencyMicros[0] / 1000.0,
          latencyMicros[1] / 1000.0,
          latencyMicros[2] / 1000.0,
          latencyMicros[3] / 1000.0,
          freshnessMillis[0],
          freshnessMillis[1],
          freshnessMillis[2]);
    }
  }

  /**
   * Runs the benchmark against the Kafka and registry of {@code kafka}, with a lineage service of
   * its own (state in {@code stateDir}). Use a cluster without another lineage service: it would
   * join the same application and share the partitions.
   *
   * @param progress receives a line per phase
   */
  public static Result run(
      KafkaSettings kafka, Path stateDir, Options options, Consumer<String> progress)
      throws Exception {
    Objects.requireNonNull(kafka, "kafka");
    String suffix = Ids.newId().substring(0, 8);
    String pipeline = "bench-" + suffix;
    String repo = "bench-" + suffix + "-src";
    String commitId = Ids.newId();
    String jobId = Ids.newId();
    Topics topics = new Topics(kafka.registryClient());
    try (TopicAdmin admin = new TopicAdmin(kafka)) {
      admin.ensureSystemTopics();
      admin.createPipelineTopics(pipelineSpec(pipeline, repo));
    }
    Map<String, Object> producerProps =
        new HashMap<>(kafka.producer("tusk-lineage-bench-" + suffix, null));
    producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    producerProps.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("TUSK_REGISTRY_URL", kafka.registryUrl());
    env.put("TUSK_SYSTEM_PARTITIONS", String.valueOf(kafka.systemPartitions()));
    env.put("TUSK_INSTANCE_ID", "lineage-bench-" + suffix);
    env.put("TUSK_STATE_DIR", stateDir.toString());
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps);
        LineageService service = LineageService.start(LineageServiceConfig.from(env))) {
      String base = "http://127.0.0.1:" + service.port();
      send(producer, topics.commits, commitId, commit(commitId, repo, jobId, pipeline));
      send(producer, topics.jobs, jobId, job(jobId, commitId, repo, pipeline));

      progress.accept(
          "writing " + options.outputs() + " outputs to " + TopicNames.output(pipeline));
      long start = System.nanoTime();
      Topic<String, Output> outputs = topics.output(pipeline);
      for (int i = 0; i < options.outputs(); i++) {
        String member = member(i);
        producer.send(
            new ProducerRecord<>(
                outputs.name(),
                outputs.key(member),
                outputs.value(output(pipeline, member, jobId, commitId, repo, i))));
      }
      producer.flush();
      double produceSeconds = seconds(System.nanoTime() - start);
      progress.accept(String.format("written in %.1f s; waiting until indexed", produceSeconds));
      for (int i = Math.max(0, options.outputs() - 100); i < options.outputs(); i++) {
        awaitQueryable(http, base + provenance(pipeline, member(i)), QUERYABLE_DEADLINE);
      }
      double queryableSeconds = seconds(System.nanoTime() - start);
      progress.accept(
          String.format(
              "last outputs queryable after %.1f s; waiting until every index caught up",
              queryableSeconds));
      awaitNoLag(kafka, QUERYABLE_DEADLINE);
      double indexSeconds = seconds(System.nanoTime() - start);
      progress.accept(
          String.format("every index caught up after %.1f s; looking up", indexSeconds));

      FreshnessProbe freshness =
          new FreshnessProbe(
              producer, outputs, http, base, pipeline, jobId, commitId, repo, options);
      Thread probe = new Thread(freshness, "lineage-bench-freshness");
      probe.start();
      Load load = openLoop(http, base, pipeline, options);
      probe.join(TimeUnit.MINUTES.toMillis(5));
      return new Result(
          options.outputs(),
          produceSeconds,
          queryableSeconds,
          indexSeconds,
          load.requests,
          load.errors,
          load.achievedRate,
          load.percentiles,
          freshness.percentiles());
    }
  }

  private record Load(long requests, long errors, double achievedRate, long[] percentiles) {}

  /** Sends {@code rate} requests per second on schedule, whatever the answers take. */
  private static Load openLoop(HttpClient http, String base, String pipeline, Options options)
      throws Exception {
    int total = (int) (options.rate() * options.duration().toSeconds());
    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / options.rate();
    AtomicLongArray latencies = new AtomicLongArray(total);
    AtomicLong errors = new AtomicLong();
    List<CompletableFuture<?>> pending = new ArrayList<>(total);
    long start = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long scheduled = start + i * intervalNanos;
      long wait = scheduled - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      int index = i;
      String member = member(ThreadLocalRandom.current().nextInt(options.outputs()));
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(base + provenance(pipeline, member)))
              .timeout(Duration.ofSeconds(10))
              .build();
      pending.add(
          // The body is read in full, then dropped: the generator keeps no answers in memory.
          http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
              .whenComplete(
                  (response, failure) -> {
                    latencies.set(index, System.nanoTime() - scheduled);
                    if (failure != null || response.statusCode() != 200) {
                      errors.incrementAndGet();
                    }
                  }));
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .exceptionally(e -> null)
        .get(1, TimeUnit.MINUTES);
    double elapsed = seconds(System.nanoTime() - start);
    long[] micros = new long[total];
    for (int i = 0; i < total; i++) {
      micros[i] = TimeUnit.NANOSECONDS.toMicros(latencies.get(i));
    }
    Arrays.sort(micros);
    return new Load(
        total,
        errors.get(),
        total / elapsed,
        new long[] {
          percentile(micros, 50),
          percentile(micros, 99),
          percentile(micros, 99.9),
          micros[total - 1]
        });
  }

  /** Writes single new outputs now and then and times until each is queryable. */
  private static final class FreshnessProbe implements Runnable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final Topic<String, Output> outputs;
    private final HttpClient http;
    private final String base;
    private final String pipeline;
    private final String jobId;
    private final String commitId;
    private final String repo;
    private final Options options;
    private final long[] millis;
    private volatile RuntimeException failure;

    FreshnessProbe(
        KafkaProducer<byte[], byte[]> producer,
        Topic<String, Output> outputs,
        HttpClient http,
        String base,
        String pipeline,
        String jobId,
        String commitId,
        String repo,
        Options options) {
      this.producer = producer;
      this.outputs = outputs;
      this.http = http;
      this.base = base;
      this.pipeline = pipeline;
      this.jobId = jobId;
      this.commitId = commitId;
      this.repo = repo;
      this.options = options;
      this.millis = new long[options.freshnessSamples()];
    }

    @Override
    public void run() {
      long spacing = options.duration().toNanos() / Math.max(1, options.freshnessSamples());
      try {
        for (int i = 0; i < millis.length; i++) {
          long next = System.nanoTime() + spacing;
          String member = "fresh-" + i;
          long start = System.nanoTime();
          producer
              .send(
                  new ProducerRecord<>(
                      outputs.name(),
                      outputs.key(member),
                      outputs.value(output(pipeline, member, jobId, commitId, repo, i))))
              .get(30, TimeUnit.SECONDS);
          awaitQueryable(http, base + provenance(pipeline, member), Duration.ofMinutes(2));
          millis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          long wait = next - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait); // spread the samples over the load phase
          }
        }
      } catch (Exception e) {
        failure = new IllegalStateException("freshness probe failed: " + e.getMessage(), e);
      }
    }

    long[] percentiles() {
      if (failure != null) {
        throw failure;
      }
      long[] sorted = millis.clone();
      Arrays.sort(sorted);
      return new long[] {percentile(sorted, 50), percentile(sorted, 99), sorted[sorted.length - 1]};
    }
  }

  private static void awaitQueryable(HttpClient http, String url, Duration deadline)
      throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).build();
    while (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
      if (System.nanoTime() > end) {
        throw new IllegalStateException(url + " not queryable within " + deadline);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // poll interval
    }
  }

  /** Waits until the lineage application has committed every record of every topic it reads. */
  private static void awaitNoLag(KafkaSettings kafka, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    try (Admin admin = Admin.create(kafka.admin("tusk-lineage-bench-lag"))) {
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin
                .listConsumerGroupOffsets(LineageService.APPLICATION_ID)
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        committed.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        long lag = 0;
        for (var entry : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
          OffsetAndMetadata offset = committed.get(entry.getKey());
          lag += Math.max(0, entry.getValue().offset() - (offset == null ? 0 : offset.offset()));
        }
        if (lag == 0) {
          return;
        }
        if (System.nanoTime() > end) {
          throw new IllegalStateException("the indexes still lag " + lag + " records");
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // poll interval
      }
    }
  }

  private static long percentile(long[] sorted, double percent) {
    int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static String member(int i) {
    return "m" + i;
  }

  private static String provenance(String pipeline, String member) {
    return "/pipelines/" + pipeline + "/outputs/" + member + "/provenance";
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static <V> void send(
      KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, String key, V value)
      throws Exception {
    producer
        .send(new ProducerRecord<>(topic.name(), topic.key(key), topic.value(value)))
        .get(30, TimeUnit.SECONDS);
  }

  private static Output output(
      String pipeline, String member, String jobId, String commitId, String repo, int i) {
    byte[] data =
        ("{\"member\":\"" + member + "\",\"score\":" + (i % 100) / 100.0 + ",\"risk\":\"low\"}")
            .getBytes(StandardCharsets.UTF_8);
    return Output.newBuilder()
        .setPipeline(pipeline)
        .setMember(member)
        .setJobId(jobId)
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setDatumHash(Ids.newId())
        .setContentType("application/json")
        .setData(ByteBuffer.wrap(data))
        .setOutputHash(Ids.newId())
        .setInputs(
            List.of(
                InputRef.newBuilder()
                    .setTopic(TopicNames.updates(repo))
                    .setPartition(i % SOURCE_PARTITIONS)
                    .setOffset(i)
                    .setTable("CONDITION_ERA")
                    .build()))
        .build();
  }

  private static Commit commit(String id, String repo, String jobId, String pipeline) {
    return Commit.newBuilder()
        .setId(id)
        .setRepo(repo)
        .setSequence(1)
        .setGlobalId(id)
        .setCreatedAt(System.currentTimeMillis())
        .setStartOffsets(List.of())
        .setEndOffsets(List.of(PartitionOffset.newBuilder().setPartition(0).setOffset(0).build()))
        .setJobs(
            List.of(
                io.tusk.schemas.JobRef.newBuilder()
                    .setPipeline(pipeline)
                    .setJobId(jobId)
                    .setSpecHash("bench")
                    .build()))
        .build();
  }

  private static Job job(String id, String commitId, String repo, String pipeline) {
    return Job.newBuilder()
        .setId(id)
        .setPipeline(pipeline)
        .setRepo(repo)
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setState(JobState.SUCCESS)
        .setTotal(1)
        .setToProcess(1)
        .setProcessed(1)
        .setSkipped(0)
        .setFailed(0)
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }

  private static PipelineSpec pipelineSpec(String name, String repo) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo(repo)
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("bench").build())
        .setParallelism(OUTPUT_PARTITIONS)
        .setSpecHash("bench")
        .setCreatedAt(System.currentTimeMillis())
        .build();
  }
}
