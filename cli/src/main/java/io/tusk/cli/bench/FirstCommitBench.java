package io.tusk.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import io.tusk.cli.chaos.ServiceProcess;
import io.tusk.cli.local.LocalTusk;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.partition.PartitionService;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The first-commit benchmark (issue 14): a generated table loaded as a backlog, sealed as one
 * commit, then the partition service started on it in a JVM of its own (as a deployment runs it,
 * with its heap bounded) and a pipeline with a no-op Java transform run over every member; it
 * prints seal to job SUCCESS against the load of the same rows, the time the 10,000,000
 * members / 200,000,000 rows would take at the rate measured when the table is smaller, and the
 * peak memory ({@link MemoryWatch}): the partition service's heap and RocksDB memory, and this
 * JVM's heap (the broker and the other services).
 *
 * @param out where the figures go
 * @param table the generated table
 * @param home the local stack's home directory
 * @param partitionJvmFlags the partition service's JVM flags, its heap bound first (e.g. {@code
 *     -Xmx2g})
 */
public record FirstCommitBench(
    PrintStream out, SyntheticTable table, Path home, List<String> partitionJvmFlags) {
  /** The first commit: rows, and its target from seal to job SUCCESS. */
  static final long TARGET_ROWS = 200_000_000L;

  static final Duration TARGET = Duration.ofMinutes(45);

  /** The heap bound per service. */
  static final long TARGET_HEAP_BYTES = 2L << 30;

  private static final String OTHER_SERVICES =
      "the broker, the registry, the commit and lineage services and the datum processors";

  private static final Duration TIMEOUT = Duration.ofHours(12);

  /** Runs the benchmark and prints its figures. */
  public void run() throws Exception {
    out.printf(
        "Tusk first-commit bench: %,d members, %,d rows, %d partitions, no-op Java transform%n",
        table.members(), table.rows(), Bench.PARTITIONS);
    try (LocalTusk tusk = LocalTusk.start(home, Ports.ephemeral(), 2, false)) {
      TuskClient client = tusk.client();
      Bench.createRepoAndPipeline(client, NoopTransform.class.getName());
      long loadStart = System.nanoTime();
      Bench.load(tusk.kafkaSettings("bench-first-commit"), table);
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      out.printf(
          "baseline  load (produce the rows)        %,12d rows in %8.1f s  %,10.0f rows/s%n",
          table.rows(), loadSeconds, table.rows() / loadSeconds);

      try (MemoryWatch memory = MemoryWatch.start()) {
        long sealed = System.nanoTime();
        JsonNode commit = client.commit(Bench.REPO);
        try (ServiceProcess partition =
            TuskServices.startPartitionServiceInOwnJvm(
                tusk.bootstrapServers(), tusk.registryUrl(), tusk.home(), partitionJvmFlags)) {
          memory.scrape(
              LineageLookups.LineageHttp.of(client.authorization()),
              "http://127.0.0.1:" + partition.port() + "/metrics");
          Path log = tusk.home().resolve(PartitionService.SERVICE + ".log");
          String commitId = commit.path("id").asText();
          JsonNode complete =
              whileAlive(
                  partition,
                  log,
                  () -> client.commit(Bench.REPO, commitId),
                  TuskClient::commitComplete,
                  "commit " + commitId + " to complete");
          double stageSeconds = (System.nanoTime() - sealed) / 1e9;
          long rows = complete.path("stats").path("rows").asLong();
          out.printf(
              "tusk      partition stage: seal -> commit complete  %8.1f s  %,10.0f rows/s%n",
              stageSeconds, rows / stageSeconds);
          String jobId = Bench.jobOf(commit);
          JsonNode job =
              whileAlive(
                  partition,
                  log,
                  () -> client.job(jobId),
                  TuskClient::jobEnded,
                  "job " + jobId + " to end");
          double jobSeconds = (System.nanoTime() - sealed) / 1e9;
          if (!"SUCCESS".equals(job.path("state").asText())) {
            throw new IllegalStateException("the first commit's job ended " + job);
          }
          out.printf(
              "tusk      first commit: seal -> job SUCCESS %8.1f s  = %.1f x the load; %,d datums"
                  + " processed%n",
              jobSeconds, jobSeconds / loadSeconds, job.path("processed").asLong());
          printTarget(rows, jobSeconds);
          memory.readLast();
        }
        memory.report(OTHER_SERVICES).forEach(out::println);
        MemoryWatch.ServiceMemory partition = memory.peakService();
        out.println(
            Targets.line(
                "heap per service (the partition service, in its own JVM, ran the whole commit"
                    + " within its bound)",
                String.format(
                    "bound %,d MiB, peak in use %,d MiB",
                    partition.heapMax() >> 20, partition.heapUsed() >> 20),
                String.format("<= %,d MiB", TARGET_HEAP_BYTES >> 20),
                partition.heapMax() > 0 && partition.heapMax() <= TARGET_HEAP_BYTES));
      }
    }
  }

  /**
   * Polls {@code call} until {@code done} holds, failing at once when the partition service's JVM
   * has exited (out of heap, say) instead of waiting out the timeout.
   */
  private static JsonNode whileAlive(
      ServiceProcess partition,
      Path log,
      Supplier<JsonNode> call,
      Predicate<JsonNode> done,
      String what) {
    return TuskClient.await(
        () -> {
          if (!partition.alive()) {
            throw new IllegalStateException(
                "the partition service exited while waiting for " + what + "; see " + log);
          }
          return call.get();
        },
        done,
        TIMEOUT,
        what);
  }

  /** The target, measured when the table is as large, else projected at this rate. */
  private void printTarget(long rows, double seconds) {
    double atTargetSize = seconds * TARGET_ROWS / rows;
    out.println(
        Targets.line(
            String.format("first commit of %,d rows, seal -> job SUCCESS", TARGET_ROWS),
            rows >= TARGET_ROWS
                ? String.format("%.1f min", seconds / 60)
                : String.format(
                    "%.0f min at this run's rate (a projection: rows and members scale together)",
                    atTargetSize / 60),
            "<= " + TARGET.toMinutes() + " min",
            atTargetSize <= TARGET.toSeconds()));
  }
}
