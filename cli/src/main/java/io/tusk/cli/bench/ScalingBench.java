package io.tusk.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.Home;
import io.tusk.cli.TuskClient;
import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.service.Service;
import io.tusk.partition.PartitionService;
import io.tusk.processor.DatumProcessor;
import io.tusk.processor.DatumProcessorConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * The scaling benchmark (issue 11, "Scaling, measured"): the same full job over a generated table
 * (the repo and {@link MemberSummary} pipeline of {@link Bench}) run with P partition-service
 * instances and N datum processors, varying one with the other at 1: (1, 1) as the baseline, then
 * (1, N) for each other processor count and (P, 1) for each other instance count. Per configuration
 * it prints
 *
 * <ul>
 *   <li>the wall time from the seal to the job's SUCCESS;
 *   <li>the partition stage's rate: rows/s from the seal, with the P instances started on the
 *       sealed backlog (as {@link Bench} does with one), until the commit is complete;
 *   <li>the processing rate: datums/s from starting the N processors on the job's datums, once the
 *       commit is complete, until the job ends;
 *   <li>each rate per instance (divided by P, or N);
 * </ul>
 *
 * each also as a ratio to the (1, 1) baseline of the same run. The two stages run one after the
 * other rather than overlapping as they do in production, so that each rate is that stage's alone
 * and not what it managed while the other held the same cores; the wall time is their sum. Both
 * windows include starting the instances, in parallel, and the rebalances among them: that is part
 * of what scaling out costs.
 *
 * <p>Every configuration runs on a fresh local stack, each after the last is closed. One stack
 * would not keep them on equal terms: the partition service is one Kafka Streams application whose
 * tasks read every repo's by-member topic, so each instance of a later configuration would first
 * restore the earlier repos' state from the changelogs. Deleting those repos does not avoid that:
 * it purges their keys with tombstones, but the changelogs keep every record until compaction,
 * which the services' topic bounds allow up to 7 days after (segments roll after 7 days too). A
 * stack's start, and the load of the table, fall outside the measured windows. A short warm-up run
 * on a tenth of the table comes first, so the baseline is not the only run in a cold JVM.
 *
 * <p>The repo has {@value Bench#PARTITIONS} partitions and the pipeline as many, so three instances
 * get two member partitions each, four processors get two, two, one and one datum partitions. The
 * broker and the instances run in this JVM and the registry in a child JVM, all on the same cores:
 * on a 2-core machine the figures show the overhead of scaling out, not its gain.
 *
 * @param out where the figures go
 * @param table the generated table each configuration loads as its first commit
 * @param partitionInstances the partition-service instance counts to run (with one processor)
 * @param processors the datum-processor counts to run (with one partition-service instance)
 * @param home under which each configuration's local stack keeps its data, deleted after it
 */
public record ScalingBench(
    PrintStream out,
    SyntheticTable table,
    List<Integer> partitionInstances,
    List<Integer> processors,
    Path home) {

  /** P partition-service instances and N datum processors. */
  record Setup(int partitionInstances, int processors) {
    @Override
    public String toString() {
      return "P=" + partitionInstances + " N=" + processors;
    }
  }

  /** What one configuration measured: seconds, rows/s and datums/s. */
  record Figures(Setup setup, double wallSeconds, double partitionRate, double processingRate) {
    double partitionPerInstance() {
      return partitionRate / setup.partitionInstances();
    }

    double processingPerInstance() {
      return processingRate / setup.processors();
    }
  }

  private static final Setup BASELINE = new Setup(1, 1);

  public ScalingBench {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(home, "home");
    partitionInstances = List.copyOf(partitionInstances);
    processors = List.copyOf(processors);
    if (partitionInstances.stream().anyMatch(p -> p < 1)
        || processors.stream().anyMatch(n -> n < 1)) {
      throw new IllegalArgumentException(
          "instance and processor counts must be at least 1: "
              + partitionInstances
              + ", "
              + processors);
    }
  }

  /** Runs every configuration and prints its figures. */
  public void run() throws Exception {
    List<Setup> setups = setups();
    out.printf(
        "Tusk scaling bench: %,d members, %,d rows, %d partitions; %d configurations (P:"
            + " partition-service instances, N: datum processors), each on a fresh local stack%n",
        table.members(), table.rows(), Bench.PARTITIONS, setups.size());

    SyntheticTable tenth =
        new SyntheticTable(Math.max(1, table.members() / 10), Math.max(1, table.rows() / 10));
    Figures warmUp = measure(BASELINE, tenth, "warm-up");
    out.printf(
        "warm-up   %s on a tenth of the table: %.1f s seal -> SUCCESS (not counted)%n",
        BASELINE, warmUp.wallSeconds());

    out.printf(
        "%-10s %8s %6s  %11s %6s %11s %6s  %11s %6s %11s %6s%n",
        "",
        "wall s",
        "x base",
        "partition",
        "x base",
        "/instance",
        "x base",
        "processing",
        "x base",
        "/instance",
        "x base");
    out.printf(
        "%-10s %8s %6s  %11s %6s %11s %6s  %11s %6s %11s %6s%n",
        "", "", "", "rows/s", "", "rows/s", "", "datums/s", "", "datums/s", "");
    Figures base = null;
    for (Setup setup : setups) {
      Figures figures =
          measure(setup, table, "p" + setup.partitionInstances() + "-n" + setup.processors());
      base = base == null ? figures : base;
      print(figures, base);
    }
    out.println(
        "x base: the figure over the P=1 N=1 baseline's (wall time: above 1 is slower; rates: below"
            + " 1 is slower)");
    int cores = Runtime.getRuntime().availableProcessors();
    String machine = cores == 1 ? "1 core" : cores + " cores";
    if (cores <= 2) {
      out.printf(
          "%s: more instances share the same %s, so these figures show the overhead of scale-out,"
              + " not its gain%n",
          machine, machine);
    } else {
      out.printf(
          "%s: every instance runs in this JVM beside the broker and the registry, so any gain is"
              + " bounded by this one machine%n",
          machine);
    }
  }

  /** The baseline first, then each other processor count, then each other instance count. */
  private List<Setup> setups() {
    List<Setup> setups = new ArrayList<>(List.of(BASELINE));
    processors.stream().distinct().filter(n -> n != 1).forEach(n -> setups.add(new Setup(1, n)));
    partitionInstances.stream()
        .distinct()
        .filter(p -> p != 1)
        .forEach(p -> setups.add(new Setup(p, 1)));
    return setups;
  }

  private void print(Figures figures, Figures base) {
    out.printf(
        "%-10s %8.1f %6.2f  %,11.0f %6.2f %,11.0f %6.2f  %,11.0f %6.2f %,11.0f %6.2f%n",
        figures.setup(),
        figures.wallSeconds(),
        figures.wallSeconds() / base.wallSeconds(),
        figures.partitionRate(),
        figures.partitionRate() / base.partitionRate(),
        figures.partitionPerInstance(),
        figures.partitionPerInstance() / base.partitionPerInstance(),
        figures.processingRate(),
        figures.processingRate() / base.processingRate(),
        figures.processingPerInstance(),
        figures.processingPerInstance() / base.processingPerInstance());
  }

  /**
   * One configuration on its own stack under {@code <home>/<name>}: load {@code rows}, seal, run
   * the partition stage on P instances until the commit is complete, then the job's datums on N
   * processors until it ends; everything is closed and the stack's data deleted after.
   */
  private Figures measure(Setup setup, SyntheticTable rows, String name) throws Exception {
    Path stackHome = home.resolve(name);
    // No processors from the stack's supervisor: this configuration starts exactly N itself.
    try (LocalTusk tusk = LocalTusk.start(stackHome, Ports.ephemeral(), 0, false)) {
      TuskClient client = tusk.client();
      Bench.createRepoAndPipeline(client);
      Bench.load(tusk.kafkaSettings("bench-scaling"), rows);

      long sealed = System.nanoTime();
      JsonNode commit = client.commit(Bench.REPO);
      List<PartitionService> partitionServices =
          startTogether(
              setup.partitionInstances(),
              i ->
                  TuskServices.startPartitionService(
                      tusk.bootstrapServers(),
                      tusk.registryUrl(),
                      tusk.home(),
                      "local-partition-" + i,
                      0));
      try {
        JsonNode complete =
            client.awaitCommitComplete(Bench.REPO, commit.path("id").asText(), Bench.TIMEOUT);
        long completed = System.nanoTime();
        List<DatumProcessor> datumProcessors =
            startTogether(setup.processors(), i -> DatumProcessor.start(processorConfig(tusk, i)));
        try {
          JsonNode job = client.awaitJobEnd(Bench.jobOf(commit), Bench.TIMEOUT);
          long ended = System.nanoTime();
          // A failed job's times say nothing about scaling.
          if (!"SUCCESS".equals(job.path("state").asText())) {
            throw new IllegalStateException(
                "the job of " + setup + " ended " + job.path("state").asText() + ": " + job);
          }
          return new Figures(
              setup,
              seconds(sealed, ended),
              complete.path("stats").path("rows").asLong() / seconds(sealed, completed),
              job.path("processed").asLong() / seconds(completed, ended));
        } finally {
          datumProcessors.forEach(DatumProcessor::close);
        }
      } finally {
        partitionServices.forEach(PartitionService::close);
      }
    } finally {
      // Each configuration's topics hold the whole table several times over.
      Home.clean(stackHome);
    }
  }

  /**
   * Processor {@code index} of the benchmark pipeline, configured as the stack's supervisor does.
   */
  private static DatumProcessorConfig processorConfig(LocalTusk tusk, int index) {
    Map<String, String> env =
        TuskServices.serviceEnv(
            tusk.bootstrapServers(),
            tusk.registryUrl(),
            tusk.home(),
            "local-" + Bench.PIPELINE + "-" + index,
            0,
            null);
    env.put(DatumProcessorConfig.PIPELINE.name(), Bench.PIPELINE);
    return DatumProcessorConfig.from(env);
  }

  /**
   * Starts {@code count} services at once, each on its own thread, so they join their groups in the
   * same rebalances instead of the first getting a head start on the backlog. If any fails, those
   * that started are closed and the first failure is thrown.
   */
  private static <T extends Service> List<T> startTogether(int count, IntFunction<T> start)
      throws InterruptedException {
    ExecutorService threads =
        Executors.newFixedThreadPool(count, r -> new Thread(r, "tusk-bench-start"));
    try {
      List<Future<T>> starts = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int index = i;
        starts.add(threads.submit(() -> start.apply(index)));
      }
      List<T> started = new ArrayList<>();
      RuntimeException failure = null;
      for (Future<T> pending : starts) {
        try {
          started.add(pending.get());
        } catch (ExecutionException e) {
          RuntimeException cause =
              e.getCause() instanceof RuntimeException runtime
                  ? runtime
                  : new IllegalStateException(e.getCause());
          if (failure == null) {
            failure = cause;
          } else {
            failure.addSuppressed(cause);
          }
        }
      }
      if (failure != null) {
        started.forEach(Service::close);
        throw failure;
      }
      return started;
    } finally {
      threads.shutdown();
    }
  }

  private static double seconds(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1e9;
  }
}
