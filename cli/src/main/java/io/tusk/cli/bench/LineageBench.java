package io.tusk.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.cli.RowLoader;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The lineage benchmark (issue 5). On a fresh local stack with every service, it indexes one output
 * per member of a generated table through the real pipeline (the same repo, table and {@link
 * MemberSummary} transform as {@link Bench}), then looks up provenance by key at a steady rate from
 * an open-loop load generator on loopback ({@link LineageLookups#lookups}), first on the steady
 * index, then again while measuring the index's lag behind the outputs: commits adding rows to
 * single members are sealed during those lookups, and each new output is timed from being readable
 * in the pipeline's output topic to being queryable on the lineage service. Prints figures; it is
 * not a timed test.
 *
 * @param out where the figures go
 * @param outputs members of the generated table, hence outputs of the pipeline's job
 * @param rate provenance lookups per second
 * @param duration how long the lookups run
 * @param home the local stack's home directory
 */
public record LineageBench(PrintStream out, int outputs, int rate, Duration duration, Path home) {
  /** Rows per member: few, so the partition stage (measured by {@link Bench}) stays short. */
  private static final int ROWS_PER_MEMBER = 2;

  /** Rows each index-lag sample adds to its member. */
  private static final int SAMPLE_ROWS = 2;

  /** Index-lag samples taken even when the lookups end first. */
  private static final int MIN_SAMPLES = 3;

  /** Between index-lag samples, so they are spread over the lookups rather than back to back. */
  private static final Duration SAMPLE_PAUSE = Duration.ofSeconds(1);

  /** Members spread over the table checked to be queryable once the index caught up. */
  private static final int SPOT_CHECKS = 100;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Runs the benchmark and prints its figures. */
  public void run() throws Exception {
    SyntheticTable table = new SyntheticTable(outputs, (long) outputs * ROWS_PER_MEMBER);
    out.printf(
        "Tusk lineage bench: %,d members (%,d rows) through pipeline %s, then provenance lookups"
            + " at %d/s for %d s%n",
        table.members(), table.rows(), Bench.PIPELINE, rate, duration.toSeconds());
    // The lineage service runs in a JVM of its own, as deployed: in the bench's JVM its lookups
    // would wait out the young-collection pauses of a heap shared with the broker, the other
    // services and the load (about one 20 ms pause every 2 s under JFR).
    try (LocalTusk tusk = LocalTusk.start(home, Ports.ephemeral(), 2, true, true)) {
      KafkaSettings settings = tusk.kafkaSettings("lineage-bench");
      TuskClient client = tusk.client();
      Bench.createRepoAndPipeline(client);
      double produceRate = Bench.load(settings, table);
      out.printf("loaded %,d rows at %,.0f rows/s; sealing%n", table.rows(), produceRate);

      long sealed = System.nanoTime();
      JsonNode job = client.awaitJobEnd(Bench.jobOf(client.commit(Bench.REPO)), Bench.TIMEOUT);
      double jobSeconds = seconds(System.nanoTime() - sealed);
      if (!"SUCCESS".equals(job.path("state").asText())) {
        throw new IllegalStateException("the pipeline's job ended " + job.path("state").asText());
      }
      out.printf(
          "pipeline job: %,d datums processed, %,d skipped, %.1f s (seal -> job SUCCESS)%n",
          job.path("processed").asLong(), job.path("skipped").asLong(), jobSeconds);

      LineageLookups.LineageHttp http = LineageLookups.LineageHttp.of(client.authorization());
      String base = tusk.lineageUrl();
      // The last member's output is the one most likely written last; no lag then means every
      // output the job wrote has been read and committed by the lineage application.
      LineageLookups.awaitQueryable(
          http, base + provenanceOf(SyntheticTable.memberId(outputs - 1)), Bench.TIMEOUT);
      LineageLookups.awaitNoLag(settings, Bench.TIMEOUT);
      double indexSeconds = seconds(System.nanoTime() - sealed);
      for (int i = 0; i < SPOT_CHECKS; i++) {
        String member = SyntheticTable.memberId((int) ((long) i * outputs / SPOT_CHECKS));
        LineageLookups.awaitQueryable(http, base + provenanceOf(member), Duration.ofSeconds(10));
      }
      out.printf(
          "indexed %,d outputs: every index caught up %.1f s after the seal, %.1f s after the job"
              + " ended (%,.0f outputs/s from the seal)%n",
          outputs, indexSeconds, indexSeconds - jobSeconds, outputs / indexSeconds);

      // First on the steady index alone, then again while update commits run through the
      // pipeline on the same cores (the index-lag samples): the two tell the lookups' own cost
      // from the machine's contention.
      LookupLoad.Round steady = lookups(client, base, "steady");
      out.println("steady index:   " + steady.lookups().report());
      out.println("                " + steady.service());
      out.println(lookupTarget("steady index", steady));
      try (IndexLagProbe probe = new IndexLagProbe(settings, client, http, base, table)) {
        LookupLoad.Round loaded = lookups(client, base, "during-updates");
        probe.finish();
        out.println("during updates: " + loaded.lookups().report());
        out.println("                " + loaded.service());
        out.println(lookupTarget("during updates", loaded));
        out.println(probe.report());
      }
    }
  }

  /** The target for a round's lookups: p99 within 10 ms. */
  private static String lookupTarget(String round, LookupLoad.Round lookups) {
    double p99Millis = lookups.lookups().latencyMicros()[1] / 1000.0;
    return Targets.line(
        "provenance lookup p99, " + round,
        String.format("%.2f ms", p99Millis),
        "<= 10 ms",
        p99Millis <= 10);
  }

  /** One round of lookups from a JVM of its own, logging to {@code <home>/lookups-<round>.log}. */
  private LookupLoad.Round lookups(TuskClient client, String base, String round) throws Exception {
    return LookupLoad.run(
        client.authorization(),
        base,
        Bench.PIPELINE,
        outputs,
        rate,
        duration,
        home.resolve("lookups-" + round + ".log"));
  }

  private static String provenanceOf(String member) {
    return LineageLookups.provenance(Bench.PIPELINE, member);
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  /**
   * Seals commits that add rows to one member at a time, while the lookups run, and times each new
   * output from readable in the output topic (seen by a read-committed consumer of its own, so
   * after the processor's transaction committed, as the lineage service sees it) to queryable by
   * key, and from the seal to queryable.
   */
  private final class IndexLagProbe implements AutoCloseable {
    private final TuskClient client;
    private final LineageLookups.LineageHttp http;
    private final String base;
    private final SyntheticTable table;
    private final RowLoader loader;
    private final Topic<String, Output> outputTopic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread tail;
    private final Thread sampler;

    /** When each member's latest output became readable (nanoTime), by member key. */
    private final Map<String, Long> readable = new ConcurrentHashMap<>();

    private final List<Long> lagNanos = new ArrayList<>();
    private final List<Long> sealNanos = new ArrayList<>();
    private volatile boolean stopped;
    private volatile boolean closed;
    private volatile Exception failure;

    IndexLagProbe(
        KafkaSettings settings,
        TuskClient client,
        LineageLookups.LineageHttp http,
        String base,
        SyntheticTable table) {
      this.client = client;
      this.http = http;
      this.base = base;
      this.table = table;
      this.loader = new RowLoader(settings, Bench.REPO);
      this.outputTopic = new Topics(settings.registryClient()).output(Bench.PIPELINE);
      this.consumer = new KafkaConsumer<>(settings.consumer("lineage-bench-tail", null));
      List<TopicPartition> partitions =
          consumer.partitionsFor(outputTopic.name(), Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(outputTopic.name(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      // Resolves the end offsets now, before any sample is sealed (seekToEnd is lazy).
      partitions.forEach(consumer::position);
      this.tail = new Thread(this::tail, "lineage-bench-tail");
      tail.start();
      this.sampler = new Thread(this::sample, "lineage-bench-index-lag");
      sampler.start();
    }

    private void tail() {
      try {
        while (!closed) {
          var records = consumer.poll(Duration.ofMillis(500));
          long now = System.nanoTime();
          for (ConsumerRecord<byte[], byte[]> record : records) {
            readable.put(outputTopic.readKey(record.key()), now);
          }
        }
      } catch (WakeupException e) {
        // stopping
      } finally {
        consumer.close();
      }
    }

    private void sample() {
      try {
        long nextId = table.rows(); // past the table's event IDs
        for (int i = 0; !stopped || i < MIN_SAMPLES; i++) {
          // A different member each time, spread over the table (7919 is prime).
          int member = (int) ((i * 7919L + outputs / 2) % outputs);
          String key = SyntheticTable.memberId(member);
          readable.remove(key);
          table.forEachNewRow(
              member,
              nextId,
              SAMPLE_ROWS,
              row -> loader.send(SyntheticTable.TABLE, row.member(), row.line()));
          nextId += SAMPLE_ROWS;
          loader.flush();
          long sealed = System.nanoTime();
          String jobId = Bench.jobOf(client.commit(Bench.REPO));
          LineageLookups.awaitAnswer(
              http,
              base + provenanceOf(key),
              body -> jobId.equals(jobOf(body)),
              Duration.ofMinutes(2));
          long queryable = System.nanoTime();
          Long seen = awaitReadable(key);
          // The tail consumer and the lineage service race for the same record; a sample where the
          // service won by a poll's width counts as no lag.
          lagNanos.add(Math.max(0, queryable - seen));
          sealNanos.add(queryable - sealed);
          LockSupport.parkNanos(SAMPLE_PAUSE.toNanos());
        }
      } catch (Exception e) {
        failure = e;
      }
    }

    private Long awaitReadable(String key) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      Long seen;
      while ((seen = readable.get(key)) == null) {
        if (System.nanoTime() > end) {
          throw new IllegalStateException(
              "the new output of a sampled member never showed in " + outputTopic.name());
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      return seen;
    }

    /** Stops sampling once the current sample (and at least {@link #MIN_SAMPLES}) is done. */
    void finish() throws InterruptedException {
      stopped = true;
      sampler.join(Bench.TIMEOUT.toMillis());
    }

    String report() {
      if (failure != null) {
        throw new IllegalStateException("index lag probe failed: " + failure.getMessage(), failure);
      }
      long[] lag = sorted(lagNanos);
      long[] seal = sorted(sealNanos);
      return String.format(
          "index lag (new output readable in %s -> queryable by key; %d single-member commits"
              + " sealed during the lookups): p50 %.1f ms, p99 %.1f ms, max %.1f ms%n"
              + "update freshness (seal -> the member's new output queryable): p50 %.0f ms,"
              + " p99 %.0f ms, max %.0f ms",
          outputTopic.name(),
          lag.length,
          millis(LineageLookups.percentile(lag, 50)),
          millis(LineageLookups.percentile(lag, 99)),
          millis(lag[lag.length - 1]),
          millis(LineageLookups.percentile(seal, 50)),
          millis(LineageLookups.percentile(seal, 99)),
          millis(seal[seal.length - 1]));
    }

    @Override
    public void close() throws InterruptedException {
      finish();
      closed = true;
      consumer.wakeup();
      tail.join(TimeUnit.SECONDS.toMillis(30));
      loader.close();
    }
  }

  private static String jobOf(String provenance) {
    try {
      return JSON.readTree(provenance).path("output").path("jobId").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long[] sorted(List<Long> values) {
    long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    return sorted;
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }
}
